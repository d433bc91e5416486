"""Take a run home: a tidy CSV, a JSON file, and a PyTorch snippet that reproduces the run.

Every float is written in its shortest decimal form that reads back as exactly the same float32
(``serialize.shortest_floats``), so ``float32(text) == value`` bit for bit.

The CSV is one tidy table with the header ``matrix,i,token_i,j,label_j,value``, one number per row:

=============  ===================  ===========  =================  =====================  ==========
matrix         i                    token_i      j                  label_j                value
=============  ===================  ===========  =================  =====================  ==========
temperature    (empty)              (empty)      (empty)            (empty)                τ
token          1..T                 token i      (empty)            (empty)                GPT-2 id, or empty for a table's labels
inputs         1..T                 token i      1..d               d1..dD                 x_ij
scores         1..T (query)         token i      1..T (key)         token j                ω_ij
weights        1..T (query)         token i      1..T (key)         token j                α_ij
context        1..T                 token i      1..d               d1..dD                 z_ij
=============  ===================  ===========  =================  =====================  ==========

Rows come in that order (row-major within each matrix). Fields are quoted by the csv module, so tokens
with commas, quotes or newlines survive; read it with ``csv.reader`` (or pandas with ``keep_default_na=False``
so a token such as "NaN" stays text) and filter on ``matrix``. Non-finite values are written nan, inf, -inf.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Literal, Sequence

import torch

from .attention import SelfAttention
from .serialize import shortest_floats
from .tokens import ENDOFTEXT, VOCAB_SIZE

CSV_HEADER = ("matrix", "i", "token_i", "j", "label_j", "value")
CSV_MATRICES = ("inputs", "scores", "weights", "context")


def _flat_texts(tensor: torch.Tensor) -> list[str]:
    """Each entry's shortest float32 decimal (``repr`` of the float), row-major; nan/inf/-inf for non-finite."""
    flat = tensor.detach().reshape(-1)
    values = shortest_floats(flat)
    if all(value is not None for value in values):
        return [repr(value) for value in values]
    originals = flat.double().tolist()
    return [repr(value) if value is not None else repr(original) for value, original in zip(values, originals)]


def _check_run(tokens: Sequence[str], ids: Sequence[int] | None, attention: SelfAttention) -> tuple[int, int]:
    count, dim = attention.inputs.shape
    if len(tokens) != count:
        raise ValueError(f"{len(tokens)} tokens for {count} input rows; give one token per row.")
    if ids is not None and len(ids) != count:
        raise ValueError(f"{len(ids)} ids for {count} input rows; give one id per row, or None.")
    return count, dim


def run_csv(
    tokens: Sequence[str], ids: Sequence[int] | None, attention: SelfAttention, *, temperature: float = 1.0
) -> str:
    """The whole run as one tidy CSV (see the module docstring for the layout); ``parse_run_csv`` reads it back.

    >>> from attention_core.attention import self_attention
    >>> text = run_csv(["a,b"], [64], self_attention(torch.tensor([[0.5, 2.0]])))
    >>> text.splitlines()[:4]
    ['matrix,i,token_i,j,label_j,value', 'temperature,,,,,1.0', 'token,1,"a,b",,,64', 'inputs,1,"a,b",1,d1,0.5']
    """
    count, dim = _check_run(tokens, ids, attention)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; \r and \n inside tokens get quoted
    writer.writerow(CSV_HEADER)
    writer.writerow(("temperature", "", "", "", "", repr(float(temperature))))
    for i, token in enumerate(tokens):
        writer.writerow(("token", i + 1, token, "", "", "" if ids is None else int(ids[i])))
    dimension_labels = [f"d{k + 1}" for k in range(dim)]
    for matrix in CSV_MATRICES:
        tensor = getattr(attention, matrix)
        column_labels = tokens if matrix in ("scores", "weights") else dimension_labels
        texts = iter(_flat_texts(tensor))
        for i in range(count):
            token = tokens[i]
            writer.writerows(
                (matrix, i + 1, token, j + 1, label, next(texts)) for j, label in enumerate(column_labels)
            )
    return buffer.getvalue()


def parse_run_csv(text: str) -> dict:
    """Read a ``run_csv`` file back.

    Returns {"tokens": list[str], "ids": list[int] | None, "temperature": float, "inputs": (T, d),
    "scores": (T, T), "weights": (T, T), "context": (T, d)}, the matrices as float32 tensors.
    Raises ValueError naming the line when the file does not have that layout.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != CSV_HEADER:
        raise ValueError(f"The first line must be the header {','.join(CSV_HEADER)}, got {header!r}.")
    temperature = 1.0
    tokens: list[str] = []
    ids: list[int | None] = []
    cells: dict[str, dict[tuple[int, int], float]] = {matrix: {} for matrix in CSV_MATRICES}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(CSV_HEADER):
            raise ValueError(f"Line {line} has {len(row)} fields; every line needs {len(CSV_HEADER)}.")
        matrix, i, token, j, _label, value = row
        try:
            if matrix == "temperature":
                temperature = float(value)
            elif matrix == "token":
                if int(i) != len(tokens) + 1:
                    raise ValueError(f"token {i} is out of order")
                tokens.append(token)
                ids.append(int(value) if value != "" else None)
            elif matrix in cells:
                cells[matrix][(int(i) - 1, int(j) - 1)] = float(value)
            else:
                raise ValueError(f"unknown matrix {matrix!r}; expected temperature, token or one of {CSV_MATRICES}")
        except ValueError as error:
            raise ValueError(f"Line {line}: {error}") from None
    count = len(tokens)
    result: dict = {
        "tokens": tokens,
        "ids": None if count == 0 or any(token_id is None for token_id in ids) else ids,
        "temperature": temperature,
    }
    dim = 1 + max((j for _, j in cells["inputs"]), default=-1)
    for matrix in CSV_MATRICES:
        columns = count if matrix in ("scores", "weights") else dim
        expected = count * columns
        if len(cells[matrix]) != expected or any(not (0 <= i < count and 0 <= j < columns) for i, j in cells[matrix]):
            raise ValueError(f"The {matrix} block must have {count} x {columns} entries, got {len(cells[matrix])}.")
        values = torch.empty(count, columns, dtype=torch.float64)
        for (i, j), number in cells[matrix].items():
            values[i, j] = number
        result[matrix] = values.to(torch.float32)
    return result


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
        **{matrix: shortest_floats(getattr(attention, matrix)) for matrix in CSV_MATRICES},
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


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
            f"inputs = torch.nn.Embedding({VOCAB_SIZE}, {int(dim)}).weight[ids].detach()  # (T, d) = ({count}, {int(dim)})",
        ]
    elif source == "table":
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2 or inputs.shape[0] != count:
            raise ValueError(f"inputs must be a ({count}, d) tensor for {count} tokens.")
        values = shortest_floats(inputs.detach().to(torch.float32))
        originals = inputs.detach().double().tolist()
        lines += ["import torch", "", "inputs = torch.tensor(", "    ["]
        for row, original, token in zip(values, originals, tokens):
            numbers = ", ".join(
                repr(v) if v is not None else _float_literal(o) for v, o in zip(row, original)
            )
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
