"""Exports: the tidy CSV and the JSON read back to the same float32 numbers, and the PyTorch snippet reruns the run."""

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

from attention_core.attention import SelfAttention, self_attention
from attention_core.export import CSV_HEADER, parse_run_csv, pytorch_snippet, run_csv, run_json
from attention_core.pipeline import attend
from attention_core.tokens import GPT2_BPE_PATH

SENTENCE = "Your journey starts with one step"
BOOK = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
BOOK_LABELED = "\n".join(
    " ".join([word] + [str(v) for v in row]) for word, row in zip(["Your", "journey", "starts", "with", "one", "step"], BOOK)
)
TRICKY_TOKENS = [" ", ",", '"', "\n", "<|endoftext|>", "\\xf0\\x9f", "\r\n", 'a,"b"\nc', "NaN", "=SUM(A1)", "", "東京 🦀"]
TRICKY_TEXT = 'He said "hi",\nI\'m 🦀 <|endoftext|> a\\b \t東京'
MATRICES = ("inputs", "scores", "weights", "context")


def _tricky_run(ids: bool, temperature: float = 1.0):
    count = len(TRICKY_TOKENS)
    inputs = torch.randn(count, 5, generator=torch.Generator().manual_seed(3))
    token_ids = [(7919 * i + 11) % 50257 for i in range(count)] if ids else None
    return TRICKY_TOKENS, token_ids, self_attention(inputs, temperature=temperature)


def _as_float32(nested) -> torch.Tensor:
    return torch.tensor(nested, dtype=torch.float64).to(torch.float32)


# --- CSV and JSON round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "temperature"), [(True, 1.0), (False, 1.0), (True, 2.0)], ids=["ids", "labels_only", "temperature_2"]
)
def test_csv_and_json_read_back_the_same_float32_numbers_and_tokens(ids, temperature):
    tokens, token_ids, attention = _tricky_run(ids, temperature)
    parsed = parse_run_csv(run_csv(tokens, token_ids, attention, temperature=temperature))
    loaded = json.loads(run_json(tokens, token_ids, attention, temperature=temperature))
    assert parsed["tokens"] == loaded["tokens"] == TRICKY_TOKENS
    assert parsed["ids"] == loaded["ids"] == token_ids
    assert parsed["temperature"] == loaded["temperature"] == temperature
    for name in MATRICES:
        original = getattr(attention, name)
        assert parsed[name].dtype == torch.float32
        assert torch.equal(parsed[name], original), name
        assert torch.equal(_as_float32(loaded[name]), original), name


def test_a_real_run_with_split_utf8_and_special_tokens_reads_back():
    run = attend(TRICKY_TEXT, dim=4, seed=9)
    assert "<|endoftext|>" in run.tokens and any("\\x" in token for token in run.tokens)
    assert any("\n" in token for token in run.tokens) and any('"' in token for token in run.tokens)
    parsed = parse_run_csv(run_csv(run.tokens, run.ids, run.attention))
    loaded = json.loads(run_json(run.tokens, run.ids, run.attention))
    assert parsed["tokens"] == loaded["tokens"] == run.tokens
    assert parsed["ids"] == loaded["ids"] == run.ids
    for name in MATRICES:
        assert torch.equal(parsed[name], getattr(run.attention, name)), name
        assert torch.equal(_as_float32(loaded[name]), getattr(run.attention, name)), name


def test_extreme_and_non_finite_values():
    inputs = torch.tensor([[1e-45, 3.4028235e38], [-0.0, 1 / 3]])  # the smallest subnormal, float32's max
    scores = torch.tensor([[float("inf"), 1.0], [1.0, -float("inf")]])
    weights = torch.tensor([[float("nan"), 0.0], [1.1754944e-38, 1.0]])
    attention = SelfAttention(inputs=inputs, scores=scores, weights=weights, context=inputs.clone())
    parsed = parse_run_csv(run_csv(["a", "b"], [1, 2], attention))
    for name in MATRICES:
        torch.testing.assert_close(parsed[name], getattr(attention, name), rtol=0, atol=0, equal_nan=True)
    assert math.copysign(1.0, float(parsed["inputs"][1, 0])) == -1.0  # -0.0 keeps its sign
    text = run_json(["a", "b"], [1, 2], attention)
    loaded = json.loads(text, parse_constant=lambda name: pytest.fail(f"invalid JSON constant {name}"))
    assert loaded["scores"] == [[None, 1.0], [1.0, None]]
    assert loaded["weights"][0] == [None, 0.0]
    assert loaded["inputs"] == [[1e-45, 3.4028235e38], [-0.0, 0.33333334]]


def test_csv_layout_is_tidy_and_documented():
    run = attend(SENTENCE)
    text = run_csv(run.tokens, run.ids, run.attention)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_HEADER == ("matrix", "i", "token_i", "j", "label_j", "value")
    count, dim = 6, 3
    assert len(rows) == 1 + 1 + count + 2 * count * dim + 2 * count * count
    assert rows[1] == ["temperature", "", "", "", "", "1.0"]
    assert rows[2:8] == [["token", str(i + 1), token, "", "", str(token_id)] for i, (token, token_id) in enumerate(zip(run.tokens, run.ids))]
    by_key = {(row[0], row[1], row[3]): row for row in rows[8:]}
    # 1-based indices; keys of scores/weights are labelled with their token, dimensions with d1..dD.
    weight = by_key[("weights", "2", "3")]
    assert weight[2] == " journey" and weight[4] == " starts"
    assert torch.tensor(float(weight[5]), dtype=torch.float32) == run.attention.weights[1, 2]
    context = by_key[("context", "6", "3")]
    assert context[2] == " step" and context[4] == "d3"
    assert [row[0] for row in rows[8:]] == ["inputs"] * 18 + ["scores"] * 36 + ["weights"] * 36 + ["context"] * 18


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].replace("-", "").replace(".", "")
    return len(mantissa.strip("0")) or 1


def test_csv_writes_the_shortest_decimals():
    run = attend("", table=BOOK_LABELED)
    rows = list(csv.reader(io.StringIO(run_csv(run.tokens, run.ids, run.attention), newline="")))
    inputs = [row[5] for row in rows if row[0] == "inputs"]
    assert inputs[:6] == ["0.43", "0.15", "0.89", "0.55", "0.87", "0.66"]  # not 0.4300000071525879
    # 9 significant digits always suffice for a float32; float64 noise would need up to 17.
    assert max(_significant_digits(row[5]) for row in rows[1 + 1 + 6 :]) <= 9


def test_tricky_tokens_are_quoted_not_mangled():
    tokens, token_ids, attention = _tricky_run(ids=True)
    text = run_csv(tokens, token_ids, attention)
    assert '"a,""b""\nc"' in text  # csv quoting: the comma, quotes and newline stay inside one field
    assert text.startswith("matrix,i,token_i,j,label_j,value\r\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n", "first line must be the header"),
        ("", "first line must be the header"),
        ("matrix,i,token_i,j,label_j,value\r\ntoken,1,a\r\n", "Line 2 has 3 fields"),
        ("matrix,i,token_i,j,label_j,value\r\nkeys,1,a,1,d1,0.5\r\n", "Line 2: unknown matrix 'keys'"),
        ("matrix,i,token_i,j,label_j,value\r\ntoken,1,a,,,1\r\ninputs,1,a,1,d1,x\r\n", "Line 3: could not convert"),
        ("matrix,i,token_i,j,label_j,value\r\ntoken,1,a,,,1\r\ninputs,1,a,1,d1,0.5\r\n", "scores block must have 1 x 1 entries, got 0"),
        ("matrix,i,token_i,j,label_j,value\r\ntoken,2,a,,,1\r\n", "Line 2: token 2 is out of order"),
    ],
    ids=["bad_header", "empty", "short_row", "unknown_matrix", "bad_number", "missing_block", "token_order"],
)
def test_parse_run_csv_names_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        parse_run_csv(text)


def test_exports_check_the_token_count():
    with pytest.raises(ValueError, match="2 tokens for 6 input rows"):
        run_csv(["a", "b"], None, self_attention(torch.tensor(BOOK)))
    with pytest.raises(ValueError, match="3 ids for 6 input rows"):
        run_json(["a"] * 6, [1, 2, 3], self_attention(torch.tensor(BOOK)))


def test_json_has_exactly_the_documented_keys():
    run = attend(SENTENCE)
    loaded = json.loads(run_json(run.tokens, run.ids, run.attention, temperature=math.sqrt(3)))
    assert list(loaded) == ["tokens", "ids", "temperature", "inputs", "scores", "weights", "context"]
    assert loaded["temperature"] == math.sqrt(3)
    numbers = json.dumps(loaded["inputs"] + loaded["weights"]).replace("[", " ").replace("]", " ").replace(",", " ").split()
    assert max(_significant_digits(number) for number in numbers) <= 9  # shortest float32 decimals


# --- the PyTorch snippet ----------------------------------------------------------------------------------

R50K_URL = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"

NETWORK_GUARD = '''\
import socket


def _refuse(*args, **kwargs):
    raise OSError("network access attempted in an offline test")


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network access attempted in an offline test")


socket.socket = _NoSocket
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''

PRINT_RESULTS = '''
import json as _json
print(_json.dumps({"inputs": inputs.tolist(), "weights": weights.tolist(), "context": context.tolist()}))
'''


def _offline_cache(tmp_path) -> str:
    """A tiktoken cache holding the bundled BPE file under the name tiktoken gives r50k_base's URL."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    shutil.copyfile(GPT2_BPE_PATH, cache / hashlib.sha1(R50K_URL.encode()).hexdigest())
    return str(cache)


def _run_offline(script: str, tmp_path, cache: str) -> subprocess.CompletedProcess:
    path = tmp_path / "snippet.py"
    path.write_text(NETWORK_GUARD + script, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DATA_GYM_CACHE_DIR")}
    env["TIKTOKEN_CACHE_DIR"] = cache
    return subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


SNIPPET_CASES = {
    "book_sentence_seed123_dim3": dict(text=SENTENCE, dim=3, seed=123, table="", temperature=1.0),
    "tricky_text_dim7_seed5_tau2": dict(text=TRICKY_TEXT, dim=7, seed=5, table="", temperature=2.0),
    "book_table": dict(text="", dim=3, seed=123, table=BOOK_LABELED, temperature=1.0),
    "extreme_table_tau_half": dict(
        text="a b c", dim=3, seed=0, table="1e-30, 3e18, -0.0\n0.1, 0.2, 0.30000001\n1e-45, 1, 2", temperature=0.5
    ),
}


@pytest.mark.parametrize("case", list(SNIPPET_CASES.values()), ids=list(SNIPPET_CASES))
def test_snippet_reproduces_the_run_offline(case, tmp_path):
    run = attend(case["text"], dim=case["dim"], seed=case["seed"], table=case["table"])
    tau = case["temperature"]
    core = self_attention(run.attention.inputs, temperature=tau)
    snippet = pytorch_snippet(
        run.tokens, run.ids, run.source, run.dim, run.seed, case["text"] or None, run.attention.inputs, temperature=tau
    )
    result = _run_offline(snippet + PRINT_RESULTS, tmp_path, _offline_cache(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "weights:" in result.stdout  # the snippet prints its steps
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert torch.equal(_as_float32(printed["inputs"]), run.attention.inputs)
    assert torch.allclose(_as_float32(printed["weights"]), core.weights, rtol=1e-6, atol=0.0)
    assert torch.allclose(_as_float32(printed["context"]), core.context, rtol=1e-6, atol=1e-12)


def test_the_network_guard_is_real(tmp_path):
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    script = 'import tiktoken\ntiktoken.get_encoding("r50k_base")\n'
    result = _run_offline(script, tmp_path, str(empty_cache))
    assert result.returncode != 0
    assert "network access attempted in an offline test" in result.stderr
    assert list(empty_cache.iterdir()) == []


def test_snippet_text_literal_and_ids_are_exact():
    run = attend(TRICKY_TEXT, dim=7, seed=5)
    snippet = pytorch_snippet(run.tokens, run.ids, run.source, run.dim, run.seed, TRICKY_TEXT, run.attention.inputs)
    tree = ast.parse(snippet)
    assigned = {node.targets[0].id: node.value for node in tree.body if isinstance(node, ast.Assign)}
    assert ast.literal_eval(assigned["text"]) == TRICKY_TEXT
    (check,) = [node for node in tree.body if isinstance(node, ast.Assert)]
    assert ast.literal_eval(check.test.comparators[0]) == run.ids
    assert "torch.manual_seed(5)" in snippet and "torch.nn.Embedding(50257, 7)" in snippet
    assert 'get_encoding("r50k_base")' in snippet and "GPT-2's BPE" in snippet
    assert "weights = torch.softmax(scores, dim=-1)" in snippet and "tau" not in snippet


def test_snippet_table_rows_carry_their_tokens_as_comments():
    tokens = ["a\nb", "#x", "'", "東京"]
    inputs = torch.tensor([[0.1, 0.2], [1 / 3, -0.0], [1e-30, 3e18], [5.0, 6.0]])
    snippet = pytorch_snippet(tokens, None, "table", 2, None, None, inputs, temperature=math.sqrt(2))
    compile(snippet, "<snippet>", "exec")
    rows = [line for line in snippet.splitlines() if line.startswith("        [")]
    assert [ast.literal_eval(row.split("  # ", 1)[1]) for row in rows] == tokens
    literal = torch.tensor([ast.literal_eval(row.split("  # ", 1)[0].strip().rstrip(",")) for row in rows], dtype=torch.float32)
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
    arguments = dict(
        tokens=["a"], ids=[64], source="random", dim=3, seed=1, text="a", inputs=torch.ones(1, 3), temperature=1.0
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        pytorch_snippet(**arguments)
