"""Take a run home: the exact JSON, the spreadsheet-safe CSV of the weights, and a PyTorch snippet that reruns it."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys

import pytest
import torch
from golden import INPUTS, SENTENCE, WORDS
from reference import book_attention, recipe_inputs, run_snippet

from attention_core import attend, gpt2_encoding
from attention_core.attention import SelfAttention, self_attention
from attention_core.tokens import GPT2_BPE_PATH
from attention_core.views.export import embedding_recipe, pytorch_snippet, run_json, spreadsheet_safe, weights_csv

BOOK_LABELED = "\n".join(" ".join([word] + [str(v) for v in row]) for word, row in zip(WORDS, INPUTS))
TRICKY_TEXT = 'He said "hi",\nI\'m 🦀 <|endoftext|> a\\b \t東京'
# Cells a spreadsheet would run as a formula, and cells it would not.
FORMULA_TOKENS = ['=HYPERLINK("http://x","click")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]
PLAIN_TOKENS = [" journey", 'a,"b"\nc', "NaN", "東京 🦀", " =not first"]


def _random_run(tokens: list[str], temperature: float = 1.0) -> SelfAttention:
    inputs = torch.randn(len(tokens), 5, generator=torch.Generator().manual_seed(3))
    return self_attention(inputs, temperature=temperature)


# --- the CSV: weights a spreadsheet can open safely -------------------------------------------------


@pytest.mark.parametrize("token", FORMULA_TOKENS, ids=["equals", "plus", "minus", "at", "tab", "carriage_return"])
def test_spreadsheet_safe_neutralizes_a_formula_leading_cell(token):
    assert spreadsheet_safe(token) == "'" + token


@pytest.mark.parametrize("token", PLAIN_TOKENS, ids=["space", "quotes_newline", "nan_word", "cjk", "equals_later"])
def test_spreadsheet_safe_leaves_other_cells(token):
    assert spreadsheet_safe(token) == token


def test_weights_csv_neutralizes_token_labels_and_keeps_numbers_numeric():
    tokens = FORMULA_TOKENS + PLAIN_TOKENS
    attention = _random_run(tokens)
    rows = list(csv.reader(io.StringIO(weights_csv(tokens, attention), newline="")))
    assert rows[0] == ["query / key", *(spreadsheet_safe(t) for t in tokens)]
    assert [row[0] for row in rows[1:]] == [spreadsheet_safe(t) for t in tokens]
    for row, expected in zip(rows[1:], attention.weights):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r", "'")) for cell in row[1:])
        numbers = torch.tensor([float(cell) for cell in row[1:]], dtype=torch.float32)
        assert torch.equal(numbers, expected)  # shortest decimals that read back as the same float32


def test_weights_csv_of_the_book():
    run = attend("", table=BOOK_LABELED)
    lines = weights_csv(run.tokens, run.attention).split("\r\n")
    assert lines[0] == "query / key," + ",".join(WORDS)
    assert lines[2].startswith("journey,0.13") and len(lines) == 8 and lines[-1] == ""


# --- the JSON: everything, exactly -----------------------------------------------------------------


@pytest.mark.parametrize(("ids", "temperature"), [(True, 1.0), (False, 2.0)], ids=["ids", "labels_only_tau2"])
def test_run_json_keeps_tokens_exactly_and_numbers_to_the_bit(ids, temperature):
    tokens = FORMULA_TOKENS + PLAIN_TOKENS
    token_ids = [(7919 * i + 11) % 50257 for i in range(len(tokens))] if ids else None
    attention = _random_run(tokens, temperature)
    loaded = json.loads(run_json(tokens, token_ids, attention, temperature=temperature))
    assert list(loaded) == ["tokens", "ids", "temperature", "inputs", "scores", "weights", "context"]
    assert loaded["tokens"] == tokens  # no apostrophe: the JSON is exact
    assert (loaded["ids"], loaded["temperature"]) == (token_ids, temperature)
    for name in ("inputs", "scores", "weights", "context"):
        assert torch.equal(torch.tensor(loaded[name], dtype=torch.float32), getattr(attention, name)), name


def test_run_json_of_a_real_run_with_split_utf8_and_special_tokens():
    run = attend(TRICKY_TEXT, dim=4, seed=9)
    assert "<|endoftext|>" in run.tokens and any("\\x" in token for token in run.tokens)
    loaded = json.loads(run_json(run.tokens, run.ids, run.attention))
    assert (loaded["tokens"], loaded["ids"]) == (run.tokens, run.ids)


def test_run_json_writes_non_finite_values_as_null():
    inputs = torch.tensor([[1e-45, 3.4028235e38], [-0.0, 1 / 3]])
    attention = SelfAttention(
        inputs=inputs,
        scores=torch.tensor([[math.inf, 1.0], [1.0, -math.inf]]),
        weights=torch.tensor([[math.nan, 0.0], [1.1754944e-38, 1.0]]),
        context=inputs.clone(),
    )
    text = run_json(["a", "b"], [1, 2], attention)
    loaded = json.loads(text, parse_constant=lambda name: pytest.fail(f"invalid JSON constant {name}"))
    assert loaded["scores"] == [[None, 1.0], [1.0, None]]
    assert loaded["inputs"] == [[1e-45, 3.4028235e38], [-0.0, 0.33333334]]


def test_exports_check_the_token_count():
    attention = self_attention(torch.tensor(INPUTS))
    with pytest.raises(ValueError, match="2 tokens for 6 input rows"):
        weights_csv(["a", "b"], attention)
    with pytest.raises(ValueError, match="3 ids for 6 input rows"):
        run_json(["a"] * 6, [1, 2, 3], attention)


# --- the PyTorch snippet, run in this process with the bundled encoding -----------------------------


SNIPPET_CASES = {
    "book_sentence_seed123_dim3": dict(text=SENTENCE, dim=3, seed=123, table="", temperature=1.0),
    "tricky_text_dim7_seed5_tau2": dict(text=TRICKY_TEXT, dim=7, seed=5, table="", temperature=2.0),
    "book_table": dict(text="", dim=3, seed=123, table=BOOK_LABELED, temperature=1.0),
    "extreme_table_tau_half": dict(
        text="a b c", dim=3, seed=0, table="1e-30, 3e18, -0.0\n0.1, 0.2, 0.30000001\n1e-45, 1, 2", temperature=0.5
    ),
}


def _snippet_of(case: dict):
    run = attend(case["text"], dim=case["dim"], seed=case["seed"], table=case["table"], temperature=case["temperature"])
    snippet = pytorch_snippet(
        run.tokens,
        run.ids,
        run.source,
        run.dim,
        run.seed,
        case["text"] or None,
        run.attention.inputs,
        temperature=run.temperature,
    )
    return run, snippet


@pytest.mark.parametrize("case", list(SNIPPET_CASES.values()), ids=list(SNIPPET_CASES))
def test_snippet_reproduces_the_run(case, monkeypatch):
    run, snippet = _snippet_of(case)
    namespace = run_snippet(snippet, monkeypatch)
    assert torch.equal(namespace["inputs"], run.attention.inputs)
    if run.source == "random":
        assert namespace["ids"] == run.ids
    assert torch.allclose(namespace["weights"], run.attention.weights, rtol=1e-6, atol=0.0)
    assert torch.allclose(namespace["context"], run.attention.context, rtol=1e-6, atol=1e-12)


def test_snippet_text_literal_and_ids_are_exact():
    run = attend(TRICKY_TEXT, dim=7, seed=5)
    snippet = pytorch_snippet(run.tokens, run.ids, run.source, run.dim, run.seed, TRICKY_TEXT, run.attention.inputs)
    tree = ast.parse(snippet)
    assigned = {node.targets[0].id: node.value for node in tree.body if isinstance(node, ast.Assign)}
    assert ast.literal_eval(assigned["text"]) == TRICKY_TEXT
    (check,) = [node for node in tree.body if isinstance(node, ast.Assert)]
    assert ast.literal_eval(check.test.comparators[0]) == run.ids
    assert "weights = torch.softmax(scores, dim=-1)" in snippet and "tau" not in snippet


def test_snippet_table_rows_carry_their_tokens_as_comments():
    tokens = ["a\nb", "#x", "'", "東京"]
    inputs = torch.tensor([[0.1, 0.2], [1 / 3, -0.0], [1e-30, 3e18], [5.0, 6.0]])
    snippet = pytorch_snippet(tokens, None, "table", 2, None, None, inputs, temperature=math.sqrt(2))
    rows = [line for line in snippet.splitlines() if line.startswith("        [")]
    assert [ast.literal_eval(row.split("  # ", 1)[1]) for row in rows] == tokens
    literal = torch.tensor([ast.literal_eval(row.split("  # ", 1)[0].strip().rstrip(",")) for row in rows])
    assert torch.equal(literal, inputs)
    assert f"tau = {math.sqrt(2)!r}" in snippet and "torch.softmax(scores / tau, dim=-1)" in snippet


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "file"}, 'source must be "random" or "table"'),
        ({"source": "random", "seed": None}, "needs the ids, the seed and the text"),
        ({"temperature": 0.0}, "temperature must be a finite number > 0"),
    ],
    ids=["bad_source", "random_without_seed", "zero_temperature"],
)
def test_snippet_refuses_an_incomplete_run(kwargs, message):
    arguments = dict(tokens=["a"], ids=[64], source="random", dim=3, seed=1, text="a", inputs=torch.ones(1, 3))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        pytorch_snippet(**arguments)


def test_embedding_recipe_gives_the_runs_inputs(monkeypatch):
    recipe = embedding_recipe(SENTENCE, dim=4, seed=7)
    namespace = run_snippet(recipe, monkeypatch)
    ids = gpt2_encoding().encode(SENTENCE)
    assert torch.equal(namespace["inputs"].detach(), recipe_inputs(ids, dim=4, seed=7))
    _, weights, _ = book_attention(namespace["inputs"].detach())
    assert torch.allclose(weights, attend(SENTENCE, dim=4, seed=7).attention.weights)


# --- the same snippets in a fresh interpreter, with the network cut off (slow) ------------------------

R50K_URL = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"
NETWORK_GUARD = """\
import socket


def _refuse(*args, **kwargs):
    raise OSError("network access attempted in an offline test")


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network access attempted in an offline test")


socket.socket = _NoSocket
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""
PRINT_RESULTS = """
import json as _json
print(_json.dumps({"inputs": inputs.tolist(), "weights": weights.tolist(), "context": context.tolist()}))
"""


def _run_offline(script: str, tmp_path, cache: str) -> subprocess.CompletedProcess:
    path = tmp_path / "snippet.py"
    path.write_text(NETWORK_GUARD + script, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DATA_GYM_CACHE_DIR")}
    env["TIKTOKEN_CACHE_DIR"] = cache
    return subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", ["tricky_text_dim7_seed5_tau2", "book_table"])
def test_snippet_reproduces_the_run_in_a_fresh_offline_interpreter(case, tmp_path):
    run, snippet = _snippet_of(SNIPPET_CASES[case])
    cache = tmp_path / "tiktoken-cache"  # the bundled file under the name tiktoken gives r50k_base's URL
    cache.mkdir()
    shutil.copyfile(GPT2_BPE_PATH, cache / hashlib.sha1(R50K_URL.encode()).hexdigest())
    result = _run_offline(snippet + PRINT_RESULTS, tmp_path, str(cache))
    assert result.returncode == 0, result.stderr
    assert "weights:" in result.stdout  # the snippet prints its steps
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert torch.equal(torch.tensor(printed["inputs"], dtype=torch.float64).float(), run.attention.inputs)
    assert torch.allclose(torch.tensor(printed["weights"]), run.attention.weights, rtol=1e-6, atol=0.0)


@pytest.mark.slow
def test_the_network_guard_is_real(tmp_path):
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    result = _run_offline('import tiktoken\ntiktoken.get_encoding("r50k_base")\n', tmp_path, str(empty_cache))
    assert result.returncode != 0
    assert "network access attempted in an offline test" in result.stderr
