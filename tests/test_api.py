"""The named API (/tokenize, /attend, /normalize) through gradio_client against a launched server.

The server comes from the session fixture ``server_url`` in conftest.py (loopback only).
"""

from __future__ import annotations

import math

import pytest
import torch
from gradio_client import Client
from gradio_client.exceptions import AppError

import app
import attention_core

BOOK_TOKENIZER_IDS = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 286, 617, 34680, 27271, 13]
BOOK_INPUTS = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
BOOK_CSV = "\n".join(",".join(str(v) for v in row) for row in BOOK_INPUTS)
BOOK_LABELS = ["Your", "journey", "starts", "with", "one", "step"]
# Chapter 3.3.2: attn_weights and all_context_vecs as printed.
BOOK_WEIGHTS = [
    [0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
    [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
    [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
    [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
    [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
    [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896],
]
BOOK_CONTEXT = [
    [0.4421, 0.5931, 0.5790],
    [0.4419, 0.6515, 0.5683],
    [0.4431, 0.6496, 0.5671],
    [0.4304, 0.6298, 0.5510],
    [0.4671, 0.5910, 0.5266],
    [0.4177, 0.6503, 0.5645],
]


def at_4_decimals(matrix: list[list[float]]) -> list[list[str]]:
    return [[f"{value:.4f}" for value in row] for row in matrix]


def recipe_inputs(ids: list[int], dim: int, seed: int) -> torch.Tensor:
    """``torch.manual_seed(seed); torch.nn.Embedding(50257, dim).weight[ids]`` on a forked global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight[ids].detach()  # (T, d)


def attend(client: Client, text: str, *, dim: int = 3, seed: int = 123, table: str = "") -> dict:
    return client.predict(text=text, dim=dim, seed=seed, table=table, api_name="/attend")


def test_tokenize_the_books_sentence(client):
    result = client.predict(text=app.BOOK_TOKENIZER_SENTENCE, api_name="/tokenize")
    assert set(result) == {"ids", "tokens"}
    assert result["ids"] == BOOK_TOKENIZER_IDS
    assert result["tokens"][:3] == ["Hello", ",", " do"]
    assert result["tokens"][8] == "<|endoftext|>"
    assert "".join(result["tokens"]) == app.BOOK_TOKENIZER_SENTENCE


def test_attend_with_the_books_table(client):
    result = attend(client, app.BOOK_SENTENCE, table=BOOK_CSV)
    assert set(result) == {"tokens", "ids", "inputs", "scores", "weights", "context"}
    assert result["tokens"] == ["Your", " journey", " starts", " with", " one", " step"]
    assert len(result["ids"]) == 6
    assert result["inputs"] == BOOK_INPUTS  # shortest float32 decimals: exactly what was typed
    assert at_4_decimals(result["weights"])[1] == at_4_decimals([[0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]])[0]
    assert at_4_decimals(result["weights"]) == at_4_decimals(BOOK_WEIGHTS)
    assert at_4_decimals(result["context"]) == at_4_decimals(BOOK_CONTEXT)
    assert at_4_decimals(result["scores"])[1] == ["0.9544", "1.4950", "1.4754", "0.8434", "0.7070", "1.0865"]


def test_attend_with_the_books_torch_literal(client):
    result = attend(client, app.BOOK_SENTENCE, table=app.BOOK_TABLE)
    assert at_4_decimals(result["context"]) == at_4_decimals(BOOK_CONTEXT)


def test_attend_with_random_embeddings_matches_the_recipe(client):
    text = "Hello, do you like tea?"
    result = attend(client, text, dim=5, seed=7)
    assert result["ids"] == BOOK_TOKENIZER_IDS[:7]
    x = recipe_inputs(result["ids"], 5, 7)
    inputs = torch.tensor(result["inputs"], dtype=torch.float32)
    assert inputs.shape == (7, 5)
    assert torch.equal(inputs, x)
    scores = x @ x.T  # (T, d) @ (d, T) -> (T, T)
    weights = torch.softmax(scores, dim=-1)
    torch.testing.assert_close(torch.tensor(result["scores"]), scores)
    torch.testing.assert_close(torch.tensor(result["weights"]), weights)
    torch.testing.assert_close(torch.tensor(result["context"]), weights @ x)


def test_attend_defaults_are_dim_3_seed_123(client):
    result = client.predict(text=app.BOOK_SENTENCE, api_name="/attend")
    assert torch.equal(torch.tensor(result["inputs"], dtype=torch.float32), recipe_inputs(result["ids"], 3, 123))


def test_attend_with_labels_and_no_text(client):
    table = "\n".join(f"{label}, {', '.join(str(v) for v in row)}" for label, row in zip(BOOK_LABELS, BOOK_INPUTS))
    result = attend(client, "", table=table)
    assert result["tokens"] == BOOK_LABELS
    assert result["ids"] is None
    assert at_4_decimals(result["context"]) == at_4_decimals(BOOK_CONTEXT)


def test_normalize_overflow(client):
    result = client.predict(values="1, 2, 3, 400", api_name="/normalize")
    assert set(result) == {"values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"}
    assert result["values"] == [1.0, 2.0, 3.0, 400.0]
    assert result["softmax_naive"][-1] is None
    assert result["softmax_naive"][:3] == [0.0, 0.0, 0.0]  # exp(1) / inf
    assert any("overflow" in note for note in result["notes"])
    stable = result["softmax_stable"]
    assert all(value is not None and math.isfinite(value) for value in stable)
    assert sum(stable) == pytest.approx(1.0, abs=1e-6)
    x = torch.tensor([1.0, 2.0, 3.0, 400.0])
    assert stable == pytest.approx(torch.softmax(x, dim=0).tolist())
    assert result["sum_normalized"] == pytest.approx((x / x.sum()).tolist())


@pytest.mark.parametrize("dtype, naive_finite", [("float16", False), ("float32", False), ("float64", True)])
def test_normalize_dtypes(client, dtype, naive_finite):
    result = client.predict(values="1, 2, 3, 400", dtype=dtype, api_name="/normalize")
    assert (None not in result["softmax_naive"]) == naive_finite
    assert result["softmax_stable"][-1] == pytest.approx(1.0)


def test_normalize_books_scores(client):
    result = client.predict(values=app.BOOK_SCORES_2, api_name="/normalize")
    assert [f"{v:.4f}" for v in result["softmax_stable"]] == ["0.1385", "0.2379", "0.2333", "0.1240", "0.1082", "0.1581"]
    assert result["notes"] == []


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"text": "", "dim": 3, "seed": 123, "table": ""}, "The text is empty"),
        ({"text": "hi", "dim": 0, "seed": 123, "table": ""}, "The embedding dimension is 0"),
        ({"text": "hi", "dim": 3, "seed": -1, "table": ""}, "The seed is -1"),
        ({"text": app.BOOK_SENTENCE, "dim": 3, "seed": 123, "table": "0.1, 0.2\n0.3, 0.4"},
         "The table has 2 rows but the text has 6 tokens"),
        ({"text": "one two", "dim": 3, "seed": 123, "table": "1e30, 1e30\n1e30, 1e30"}, "overflow float32"),
    ],
    ids=["empty-text", "dim-0", "seed-negative", "table-rows", "table-overflow"],
)
def test_attend_bad_input_then_good_input(client, kwargs, expected):
    with pytest.raises(AppError) as excinfo:
        client.predict(**kwargs, api_name="/attend")
    assert expected in str(excinfo.value)
    result = attend(client, app.BOOK_SENTENCE, table=BOOK_CSV)
    assert at_4_decimals(result["context"]) == at_4_decimals(BOOK_CONTEXT)


@pytest.mark.parametrize(
    "api_name, kwargs, expected",
    [
        ("/tokenize", {"text": "   "}, "The text is empty"),
        ("/normalize", {"values": "1, two"}, "Value 2 is 'two', which is not a number"),
        ("/normalize", {"values": "1, 2", "dtype": "float8"}, "The dtype is 'float8'"),
    ],
    ids=["tokenize-blank", "normalize-word", "normalize-dtype"],
)
def test_other_endpoints_report_bad_input(client, api_name, kwargs, expected):
    with pytest.raises(AppError) as excinfo:
        client.predict(**kwargs, api_name=api_name)
    assert expected in str(excinfo.value)


def test_unexpected_error_is_hidden_from_the_client(client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret /path/to/internals")

    monkeypatch.setattr(attention_core, "attend", explode)  # the server runs in this process
    with pytest.raises(AppError) as excinfo:
        attend(client, "hi")
    message = str(excinfo.value)
    assert app.GENERIC_ERROR in message
    assert "secret" not in message and "/path" not in message
    monkeypatch.undo()
    assert attend(client, "hi")["tokens"] == ["hi"]


def test_api_page_lists_exactly_the_three_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/tokenize", "/attend", "/normalize"}
    assert api["unnamed_endpoints"] == {}
    attend_parameters = api["named_endpoints"]["/attend"]["parameters"]
    assert [p["parameter_name"] for p in attend_parameters] == ["text", "dim", "seed", "table"]
    assert [p["parameter_default"] for p in attend_parameters[1:]] == [3, 123, ""]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/tokenize"]["parameters"]] == ["text"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/normalize"]["parameters"]] == ["values", "dtype"]
