"""Take a run home: the run as exact JSON, the weights as a spreadsheet-ready CSV, and a PyTorch snippet.

The JSON holds everything (tokens, ids, τ, inputs, scores, weights, context), each float in its shortest
decimal form that reads back as exactly the same float32 (``serialize.shortest_floats``); nothing in it is
changed. The CSV is the T × T weight matrix, one row per query, with the tokens as row and column labels.
Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula,
so a token label that starts that way is written with a leading apostrophe (the usual neutralization);
numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Literal

import torch

from ..attention import SelfAttention
from ..tokens import ENDOFTEXT, VOCAB_SIZE
from .serialize import shortest_floats

MATRICES = ("inputs", "scores", "weights", "context")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A text cell that no spreadsheet will run as a formula.

    >>> print(spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("-"), spreadsheet_safe(" journey"))
    '=HYPERLINK(1) '-  journey
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _check_run(tokens: Sequence[str], ids: Sequence[int] | None, attention: SelfAttention) -> tuple[int, int]:
    count, dim = attention.inputs.shape
    if len(tokens) != count:
        raise ValueError(f"{len(tokens)} tokens for {count} input rows; give one token per row.")
    if ids is not None and len(ids) != count:
        raise ValueError(f"{len(ids)} ids for {count} input rows; give one id per row, or None.")
    return count, dim


def weights_csv(tokens: Sequence[str], attention: SelfAttention) -> str:
    """The weight matrix α as CSV: a header of ``query / key`` and the key tokens, then one row per query.

    >>> from attention_core.attention import self_attention
    >>> weights_csv(["=a", "b"], self_attention(torch.tensor([[1.0], [0.0]]))).splitlines()
    ["query / key,'=a,b", "'=a,0.7310586,0.26894143", 'b,0.5,0.5']
    """
    _check_run(tokens, None, attention)
    labels = [spreadsheet_safe(token) for token in tokens]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a \r or \n inside a token gets quoted
    writer.writerow(["query / key", *labels])
    for label, row in zip(labels, shortest_floats(attention.weights)):
        writer.writerow([label, *("nan" if value is None else repr(value) for value in row)])
    return buffer.getvalue()


def run_json(
    tokens: Sequence[str], ids: Sequence[int] | None, attention: SelfAttention, *, temperature: float = 1.0
) -> str:
    """The run as JSON: {"tokens", "ids", "temperature", "inputs", "scores", "weights", "context"}.

    Matrices are nested lists (rows) of shortest float32 decimals; NaN and ±inf become null.
    ``ids`` is null for a table's labels.

    >>> from attention_core.attention import self_attention
    >>> json.loads(run_json(["a"], [64], self_attention(torch.tensor([[0.1, 0.2]]))))["context"]
    [[0.1, 0.2]]
    """
    _check_run(tokens, ids, attention)
    payload = {
        "tokens": list(tokens),
        "ids": None if ids is None else [int(token_id) for token_id in ids],
        "temperature": float(temperature),
        **{matrix: shortest_floats(getattr(attention, matrix)) for matrix in MATRICES},
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _float_literal(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    return 'float("nan")' if math.isnan(value) else ('float("inf")' if value > 0 else '-float("inf")')


def pytorch_snippet(
    tokens: Sequence[str],
    ids: Sequence[int] | None,
    source: Literal["random", "table"],
    dim: int,
    seed: int | None,
    text: str | None,
    inputs: torch.Tensor,
    *,
    temperature: float = 1.0,
) -> str:
    """A notebook cell, using only torch and tiktoken, that recomputes this run and prints every step.

    source "random": the text is tokenized with tiktoken's ``r50k_base`` (GPT-2's BPE; the snippet asserts
    the app's ids) and embedded with ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim)``.
    source "table": ``inputs`` (T, d) is written out as a ``torch.tensor`` literal of exact float32 values,
    one row per token with the token as a comment.
    """
    count = len(tokens)
    tau = float(temperature)
    if not math.isfinite(tau) or tau <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    lines = [
        "# Simplified self-attention without trainable weights (chapter 3.3 of",
        '# "Build a Large Language Model (From Scratch)"), reproducing a run of the attention explorer.',
    ]
    if source == "random":
        if ids is None or seed is None or text is None:
            raise ValueError('source "random" needs the ids, the seed and the text.')
        if len(ids) != count:
            raise ValueError(f"{len(ids)} ids for {count} tokens.")
        lines += [
            "import tiktoken",
            "import torch",
            "",
            f"text = {text!r}",
            '# r50k_base is GPT-2\'s BPE: the same ids as tiktoken.get_encoding("gpt2"), and its single',
            "# file (r50k_base.tiktoken) can be pre-seeded in TIKTOKEN_CACHE_DIR to work offline.",
            f'ids = tiktoken.get_encoding("r50k_base").encode(text, allowed_special={{"{ENDOFTEXT}"}})',
            f"assert ids == {[int(token_id) for token_id in ids]!r}, ids  # the explorer's {count} token ids",
            "",
            f"torch.manual_seed({int(seed)})",
            f"inputs = torch.nn.Embedding({VOCAB_SIZE}, {int(dim)}).weight[ids].detach()"
            f"  # (T, d) = ({count}, {int(dim)})",
        ]
    elif source == "table":
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2 or inputs.shape[0] != count:
            raise ValueError(f"inputs must be a ({count}, d) tensor for {count} tokens.")
        values = shortest_floats(inputs.detach().to(torch.float32))
        originals = inputs.detach().double().tolist()
        lines += ["import torch", "", "inputs = torch.tensor(", "    ["]
        for row, original, token in zip(values, originals, tokens):
            numbers = ", ".join(repr(v) if v is not None else _float_literal(o) for v, o in zip(row, original))
            lines.append(f"        [{numbers}],  # {token!r}")
        lines += ["    ],", "    dtype=torch.float32,", f")  # (T, d) = ({count}, {inputs.shape[1]})"]
    else:
        raise ValueError(f'source must be "random" or "table", got {source!r}')

    lines += ["", "scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)"]
    if tau == 1.0:
        lines.append("weights = torch.softmax(scores, dim=-1)  # each row sums to 1")
    else:
        lines += [
            f"tau = {tau!r}  # temperature: softmax(scores / tau); 1 is the book's softmax",
            "weights = torch.softmax(scores / tau, dim=-1)  # each row sums to 1",
        ]
    lines += [
        "context = weights @ inputs  # (T, T) @ (T, d) -> (T, d)",
        "",
        "torch.set_printoptions(precision=4)",
        'print("inputs:", inputs, "scores:", scores, "weights:", weights, "context:", context, sep="\\n")',
    ]
    return "\n".join(lines) + "\n"


def embedding_recipe(text: str, *, dim: int, seed: int) -> str:
    """Three notebook lines that give the seeded random inputs for ``text``, as the book builds them.

    >>> print(embedding_recipe("Hi", dim=3, seed=123).splitlines()[-1])
    torch.manual_seed(123); inputs = torch.nn.Embedding(50257, 3).weight[ids]
    """
    return (
        "import tiktoken, torch\n"
        f'ids = tiktoken.get_encoding("gpt2").encode({text!r}, allowed_special={{"<|endoftext|>"}})\n'
        f"torch.manual_seed({int(seed)}); inputs = torch.nn.Embedding(50257, {int(dim)}).weight[ids]"
    )


def export_files(
    tokens: Sequence[str], ids: Sequence[int] | None, attention: SelfAttention, *, raw_scores: bool = False
) -> dict[str, bytes]:
    """The downloads of one run, by file name: the exact JSON, the weights as CSV, the matrix as a PNG."""
    from .figures import figure_to_png, heatmap_figure

    matrix = attention.scores if raw_scores else attention.weights
    figure = heatmap_figure(
        matrix,
        tokens,
        title="Attention scores ω" if raw_scores else "Attention weights α",
        colorbar_label="score ω" if raw_scores else "weight α",
    )
    return {
        "attention-run.json": run_json(tokens, ids, attention, temperature=attention.temperature).encode(),
        "attention-weights.csv": weights_csv(tokens, attention).encode(),
        "attention-matrix.png": figure_to_png(figure),
    }
