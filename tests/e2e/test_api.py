"""The named API (/tokenize, /attend, /normalize) and its MCP tools, against a launched server (loopback only).

A few round trips that each prove something the handler tests cannot: the answer survives Gradio's JSON
(shortest float32 decimals, null for NaN), the defaults and the schema clients see. Refusals through the
server are sampled in test_bad_input.py.
"""

from __future__ import annotations

import golden
import httpx
import pytest
import torch
from reference import book_attention, recipe_inputs

pytestmark = pytest.mark.slow

BOOK_CSV = "\n".join(",".join(str(v) for v in row) for row in golden.INPUTS)


def at_4_decimals(matrix: list[list[float]]) -> list[list[float]]:
    return [[round(value, 4) for value in row] for row in matrix]


def test_tokenize_the_chapter_2_sentence_and_a_single_space(client):
    result = client.predict(text=golden.TOKENIZER_TEXT, api_name="/tokenize")
    assert result["ids"] == golden.TOKENIZER_IDS
    assert "".join(result["tokens"]) == golden.TOKENIZER_TEXT and result["tokens"][8] == "<|endoftext|>"
    assert client.predict(text=" ", api_name="/tokenize") == {"ids": golden.SPACE_IDS, "tokens": [" "]}


def test_attend_with_the_books_table_gives_the_books_numbers(client):
    result = client.predict(text=golden.SENTENCE, dim=3, seed=123, table=BOOK_CSV, api_name="/attend")
    assert list(result) == ["tokens", "ids", "inputs", "scores", "weights", "context"]
    assert result["tokens"] == golden.PIECES
    assert result["inputs"] == golden.INPUTS  # shortest float32 decimals: exactly what was typed
    assert at_4_decimals(result["scores"]) == golden.SCORES
    assert at_4_decimals(result["weights"]) == golden.WEIGHTS
    assert at_4_decimals(result["context"]) == golden.CONTEXT


def test_attend_defaults_are_the_notebook_recipe_with_seed_123_and_d_3(client):
    result = client.predict(text="Hello, do you like tea?", api_name="/attend")
    assert result["ids"] == golden.TOKENIZER_IDS[:7]
    x = recipe_inputs(result["ids"], dim=3, seed=123)
    assert torch.equal(torch.tensor(result["inputs"], dtype=torch.float32), x)
    scores, weights, context = book_attention(x)
    assert torch.equal(torch.tensor(result["weights"], dtype=torch.float32), weights)  # exact through JSON
    torch.testing.assert_close(torch.tensor(result["context"]), context)


def test_attend_with_labels_and_no_text(client):
    table = "\n".join(f"{word}, {', '.join(str(v) for v in row)}" for word, row in zip(golden.WORDS, golden.INPUTS))
    result = client.predict(text="", table=table, api_name="/attend")
    assert (result["tokens"], result["ids"]) == (golden.WORDS, None)
    assert at_4_decimals(result["context"]) == golden.CONTEXT


@pytest.mark.parametrize(("dtype", "naive_finite"), [("float32", False), ("float64", True)])
def test_normalize_writes_nan_as_null_and_explains_it(client, dtype, naive_finite):
    result = client.predict(values="1, 2, 3, 400", dtype=dtype, api_name="/normalize")
    assert list(result) == ["values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"]
    assert (None not in result["softmax_naive"]) is naive_finite
    assert result["softmax_stable"] == pytest.approx(torch.softmax(torch.tensor([1.0, 2, 3, 400]), 0).tolist())
    assert any("overflows float32" in note for note in result["notes"]) is not naive_finite


def test_the_api_lists_exactly_the_four_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/tokenize", "/attend", "/normalize", "/train"}
    assert api["unnamed_endpoints"] == {}
    parameters = {
        name: [(p["parameter_name"], p.get("parameter_default")) for p in endpoint["parameters"]]
        for name, endpoint in api["named_endpoints"].items()
    }
    assert parameters["/attend"] == [("text", None), ("dim", 3), ("seed", 123), ("table", "")]
    assert parameters["/normalize"] == [("values", None), ("dtype", "float32")]


def test_the_mcp_tools_describe_themselves(server_url):
    with httpx.Client(timeout=30, trust_env=False) as http:
        tools = {tool["name"]: tool for tool in http.get(f"{server_url}gradio_api/mcp/schema").json()}
    assert set(tools) == {"tokenize", "attend", "normalize", "train"}
    for tool in tools.values():
        assert tool["description"]
        for name, schema in tool["inputSchema"]["properties"].items():
            assert schema.get("description"), (tool["name"], name)
    assert tools["attend"]["inputSchema"]["properties"]["dim"]["default"] == 3


def test_view_api_shows_each_parameters_description_and_limits(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert (
        "text: The text to tokenize: 1 to 10,000 characters, at most 256 GPT-2 tokens."
        in endpoints["/tokenize"]["description"]
    )
    attend = endpoints["/attend"]["description"]
    for fragment in (
        "dim: Embedding dimension d of the seeded random table, 1 to 768",
        "seed: Seed of the random table, 0 to 4294967295",
        "at most 256 rows, 768 columns and 1 MB",
        "about 6 MB of JSON",
    ):
        assert fragment in attend
    assert (
        "dtype: The floating-point type to compute in: float16, float32 or float64."
        in endpoints["/normalize"]["description"]
    )


def test_view_api_shows_a_typed_answer_for_every_endpoint(client):
    """The endpoints' TypedDict returns reach view_api(): no endpoint answers ``Any``."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    returns = {name: [r["python_type"]["type"] for r in endpoint["returns"]] for name, endpoint in endpoints.items()}
    for name, types in returns.items():
        assert len(types) == 1 and types[0].startswith("dict("), (name, types)
    assert returns["/tokenize"] == ["dict(ids: list[int], tokens: list[str])"]
    assert returns["/attend"] == [
        "dict(tokens: list[str], ids: None | list[int], inputs: list[list[float]], scores: list[list[float]], "
        "weights: list[list[float]], context: list[list[float]])"
    ]
    assert returns["/normalize"] == [
        "dict(values: list[None | float], sum_normalized: list[None | float], softmax_naive: list[None | float], "
        "softmax_stable: list[None | float], notes: list[str])"
    ]


def test_no_endpoint_shows_its_request_parameter(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name, endpoint in endpoints.items():
        assert "request" not in [p["parameter_name"] for p in endpoint["parameters"]], name
