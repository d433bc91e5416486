"""The book's printed numbers for chapter 3.3, each with the notebook cell that printed it.

Source: ``ch03/01_main-chapter-code/ch03.ipynb`` in https://github.com/rasbt/LLMs-from-scratch,
sections 3.3.1 ("A simple self-attention mechanism without trainable weights") and 3.3.2
("Computing attention weights for all input tokens"). The cell sources and outputs below are
quoted verbatim for reference, from the notebook as committed (execution counts included).

That material is Copyright 2023-2024 Sebastian Raschka and licensed under the Apache License,
Version 2.0 (the repository's ``LICENSE.txt``; its definition of "Source" excludes the book
itself, which we do not quote). An older ``LICENSE.txt`` of the same repository was MIT;
either way, quoting these few lines with attribution is permitted.

Nothing here is computed: ``printed`` is what the notebook printed (4 decimals), transcribed
from its stored outputs, and ``output`` is the printed text itself. ``parity.py`` compares our
freshly computed numbers against them.

>>> book_value("attn_scores_2").printed
(0.9544, 1.495, 1.4754, 0.8434, 0.707, 1.0865)
>>> book_value("attn_scores_2").execution_count
3
"""

from __future__ import annotations

from dataclasses import dataclass

from .limits import InputError

BOOK_TOKENS: tuple[str, ...] = ("Your", "journey", "starts", "with", "one", "step")

# "Your journey starts with one step", already embedded in 3 dimensions (cell [2]); row i is x^(i+1).
BOOK_INPUTS: tuple[tuple[float, ...], ...] = (
    (0.43, 0.15, 0.89),  # Your     (x^1)
    (0.55, 0.87, 0.66),  # journey  (x^2)
    (0.57, 0.85, 0.64),  # starts   (x^3)
    (0.22, 0.58, 0.33),  # with     (x^4)
    (0.77, 0.25, 0.10),  # one      (x^5)
    (0.05, 0.80, 0.55),  # step     (x^6)
)

Printed = tuple  # nested tuples of floats, shaped like the printed tensor


@dataclass(frozen=True)
class BookValue:
    """One tensor the notebook printed, with the cell that printed it.

    name: the notebook's variable (unique here; a suffix tells two cells apart).
    cell: the cell's source code, verbatim.
    execution_count: the cell's ``In [n]`` number, or None if the notebook has none.
    printed: the printed numbers as nested tuples, e.g. (6,) or (6, 6).
    decimals: how many decimals the notebook printed (torch prints 4).
    note: what the value is, and anything to know when comparing with it.
    output: the cell's printed text, verbatim (empty when the cell prints nothing).
    typed: True for the inputs the cell types in (not an output), False for printed numbers.
    """

    name: str
    cell: str
    execution_count: int | None
    printed: Printed
    decimals: int = 4
    note: str = ""
    output: str = ""
    typed: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``printed``: () for a number, (6,) for a row, (6, 6) for a matrix."""
        shape: list[int] = []
        level: object = self.printed
        while isinstance(level, tuple):
            shape.append(len(level))
            level = level[0] if level else None
        return tuple(shape)

    def flat(self) -> tuple[float, ...]:
        """The printed numbers in row-major order."""
        return tuple(_flatten(self.printed))


def _flatten(values: object) -> list[float]:
    if isinstance(values, tuple):
        return [number for item in values for number in _flatten(item)]
    return [float(values)]  # type: ignore[arg-type]


def _inputs_literal() -> str:
    """The notebook's ``inputs = torch.tensor(...)`` lines, written from BOOK_INPUTS exactly as cell [2] types them."""
    rows = []
    for i, (token, row) in enumerate(zip(BOOK_TOKENS, BOOK_INPUTS)):
        opening = "  [[" if i == 0 else "   ["
        closing = "]]" if i == len(BOOK_INPUTS) - 1 else "],"
        numbers = ", ".join(f"{value:.2f}" for value in row)
        rows.append(f"{opening}{numbers}{closing} # {token:<8} (x^{i + 1})")
    return "inputs = torch.tensor(\n" + "\n".join(rows) + "\n)"


# The table the app's "Load the book's example" pastes: the notebook's own lines.
BOOK_TABLE = _inputs_literal()

_CELL_INPUTS = "import torch\n\n" + BOOK_TABLE

_CELL_SCORES_2 = """\
query = inputs[1]  # 2nd input token is the query

attn_scores_2 = torch.empty(inputs.shape[0])
for i, x_i in enumerate(inputs):
    attn_scores_2[i] = torch.dot(x_i, query) # dot product (transpose not necessary here since they are 1-dim vectors)

print(attn_scores_2)"""

_CELL_DOT = """\
res = 0.

for idx, element in enumerate(inputs[0]):
    res += inputs[0][idx] * query[idx]

print(res)
print(torch.dot(inputs[0], query))"""

_CELL_SUM_NORMALIZED_2 = """\
attn_weights_2_tmp = attn_scores_2 / attn_scores_2.sum()

print("Attention weights:", attn_weights_2_tmp)
print("Sum:", attn_weights_2_tmp.sum())"""

_CELL_NAIVE_2 = """\
def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)

attn_weights_2_naive = softmax_naive(attn_scores_2)

print("Attention weights:", attn_weights_2_naive)
print("Sum:", attn_weights_2_naive.sum())"""

_CELL_SOFTMAX_2 = """\
attn_weights_2 = torch.softmax(attn_scores_2, dim=0)

print("Attention weights:", attn_weights_2)
print("Sum:", attn_weights_2.sum())"""

_CELL_CONTEXT_2 = """\
query = inputs[1] # 2nd input token is the query

context_vec_2 = torch.zeros(query.shape)
for i,x_i in enumerate(inputs):
    context_vec_2 += attn_weights_2[i]*x_i

print(context_vec_2)"""

_CELL_SCORES_LOOPS = """\
attn_scores = torch.empty(6, 6)

for i, x_i in enumerate(inputs):
    for j, x_j in enumerate(inputs):
        attn_scores[i, j] = torch.dot(x_i, x_j)

print(attn_scores)"""

_CELL_SCORES = """\
attn_scores = inputs @ inputs.T
print(attn_scores)"""

_CELL_WEIGHTS = """\
attn_weights = torch.softmax(attn_scores, dim=-1)
print(attn_weights)"""

_CELL_ROW_SUMS = """\
row_2_sum = sum([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])
print("Row 2 sum:", row_2_sum)

print("All row sums:", attn_weights.sum(dim=-1))"""

_CELL_CONTEXT = """\
all_context_vecs = attn_weights @ inputs
print(all_context_vecs)"""

_SCORES = (
    (0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310),
    (0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865),
    (0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605),
    (0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565),
    (0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935),
    (0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450),
)

_SCORES_OUTPUT = """\
tensor([[0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310],
        [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],
        [0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605],
        [0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565],
        [0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935],
        [0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450]])
"""

BOOK_VALUES: tuple[BookValue, ...] = (
    BookValue(
        name="inputs",
        cell=_CELL_INPUTS,
        execution_count=2,
        printed=BOOK_INPUTS,
        decimals=2,
        note="Not printed: the literal the cell types in, at 2 decimals. Row i is the embedding x^(i+1).",
        typed=True,
    ),
    BookValue(
        name="attn_scores_2",
        cell=_CELL_SCORES_2,
        execution_count=3,
        printed=(0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865),
        note="Attention scores of query x^(2) (journey): ω_2j = x^(2) · x^(j).",
        output="tensor([0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865])\n",
    ),
    BookValue(
        name="res",
        cell=_CELL_DOT,
        execution_count=4,
        printed=(0.9544, 0.9544),
        note="ω_21 twice: once summed element by element (res), once with torch.dot.",
        output="tensor(0.9544)\ntensor(0.9544)\n",
    ),
    BookValue(
        name="attn_weights_2_tmp",
        cell=_CELL_SUM_NORMALIZED_2,
        execution_count=5,
        printed=(0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656),
        note="Scores divided by their sum (not softmax); the cell also prints their sum, 1.0000.",
        output="Attention weights: tensor([0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656])\nSum: tensor(1.0000)\n",
    ),
    BookValue(
        name="attn_weights_2_naive",
        cell=_CELL_NAIVE_2,
        execution_count=6,
        printed=(0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581),
        note="Naive softmax of the scores (no max subtraction); the cell also prints their sum, 1.",
        output="Attention weights: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])\nSum: tensor(1.)\n",
    ),
    BookValue(
        name="attn_weights_2",
        cell=_CELL_SOFTMAX_2,
        execution_count=7,
        printed=(0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581),
        note="torch.softmax of the scores: the same numbers as the naive softmax at 4 decimals.",
        output="Attention weights: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])\nSum: tensor(1.)\n",
    ),
    BookValue(
        name="context_vec_2",
        cell=_CELL_CONTEXT_2,
        execution_count=8,
        printed=(0.4419, 0.6515, 0.5683),
        note="Context vector z^(2) = Σ_j α_2j x^(j). Cell [14] prints it again next to row 2 of all_context_vecs.",
        output="tensor([0.4419, 0.6515, 0.5683])\n",
    ),
    BookValue(
        name="attn_scores_loops",
        cell=_CELL_SCORES_LOOPS,
        execution_count=9,
        printed=_SCORES,
        note="The notebook's attn_scores computed with two loops over torch.dot.",
        output=_SCORES_OUTPUT,
    ),
    BookValue(
        name="attn_scores",
        cell=_CELL_SCORES,
        execution_count=10,
        printed=_SCORES,
        note="The same matrix as a matrix product, ω = X Xᵀ.",
        output=_SCORES_OUTPUT,
    ),
    BookValue(
        name="attn_weights",
        cell=_CELL_WEIGHTS,
        execution_count=11,
        printed=(
            (0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452),
            (0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581),
            (0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565),
            (0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720),
            (0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295),
            (0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896),
        ),
        note="Row-wise softmax of attn_scores.",
        output=(
            "tensor([[0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],\n"
            "        [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],\n"
            "        [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],\n"
            "        [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],\n"
            "        [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],\n"
            "        [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896]])\n"
        ),
    ),
    BookValue(
        name="attn_weights_row_sums",
        cell=_CELL_ROW_SUMS,
        execution_count=12,
        printed=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        note='The "All row sums" line, attn_weights.sum(dim=-1). The first line sums six typed-in '
        "4-decimal literals in Python floats (1.0), not a tensor, so it is not compared.",
        output="Row 2 sum: 1.0\nAll row sums: tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000, 1.0000])\n",
    ),
    BookValue(
        name="all_context_vecs",
        cell=_CELL_CONTEXT,
        execution_count=13,
        printed=(
            (0.4421, 0.5931, 0.5790),
            (0.4419, 0.6515, 0.5683),
            (0.4431, 0.6496, 0.5671),
            (0.4304, 0.6298, 0.5510),
            (0.4671, 0.5910, 0.5266),
            (0.4177, 0.6503, 0.5645),
        ),
        note="Every context vector at once, Z = α X; row 2 is context_vec_2.",
        output=(
            "tensor([[0.4421, 0.5931, 0.5790],\n"
            "        [0.4419, 0.6515, 0.5683],\n"
            "        [0.4431, 0.6496, 0.5671],\n"
            "        [0.4304, 0.6298, 0.5510],\n"
            "        [0.4671, 0.5910, 0.5266],\n"
            "        [0.4177, 0.6503, 0.5645]])\n"
        ),
    ),
)


def book_value(name: str, reference: tuple[BookValue, ...] = BOOK_VALUES) -> BookValue:
    """The reference value called ``name``; an InputError lists the names there are."""
    for value in reference:
        if value.name == name:
            return value
    raise InputError(f"No book value named {name!r}; the names are: {', '.join(v.name for v in reference)}.")
