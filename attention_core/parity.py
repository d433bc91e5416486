"""Our numbers, computed fresh, next to the numbers the book's notebook printed.

A printed value b is the true value rounded to ``decimals`` places, so the true value lies within
half a unit of the last printed place of b. Ours may also differ from the notebook's own float32
result by a few ulps (another summation order), which matters only when a value sits exactly on
a rounding boundary. So a number *matches* when

    |ours - b| <= 0.5 * 10**-decimals + SLACK,   SLACK = 1e-6 (about 8 float32 ulps at 1.5)

which is "rounds to the same printed digits", made robust at the boundary. A correct
implementation always matches; a wrong one is off by far more than 5e-5 + 1e-6.

>>> entries = book_parity()
>>> all(entry.all_match for entry in entries)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .attention import attention_scores, attention_weights, context_vectors, self_attention_loops
from .book import BOOK_INPUTS, BOOK_VALUES, BookValue
from .limits import InputError
from .normalization import softmax_naive, sum_normalize

SLACK = 1e-6

# How we compute each value the notebook printed, from the (T, d) inputs, with the core's functions.
_OURS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "inputs": lambda x: x,  # (T, d)
    "attn_scores_2": lambda x: attention_scores(x)[1],  # (T,)
    "res": lambda x: attention_scores(x)[1, 0].repeat(2),  # (2,): ω_21, printed twice
    "attn_weights_2_tmp": lambda x: sum_normalize(attention_scores(x)[1]),  # (T,)
    "attn_weights_2_naive": lambda x: softmax_naive(attention_scores(x)[1]),  # (T,)
    "attn_weights_2": lambda x: attention_weights(attention_scores(x)[1]),  # (T,)
    "context_vec_2": lambda x: context_vectors(attention_weights(attention_scores(x)), x)[1],  # (d,)
    "attn_scores_loops": lambda x: self_attention_loops(x).scores,  # (T, T), the loop version
    "attn_scores": lambda x: attention_scores(x),  # (T, T)
    "attn_weights": lambda x: attention_weights(attention_scores(x)),  # (T, T)
    "attn_weights_row_sums": lambda x: attention_weights(attention_scores(x)).sum(dim=-1),  # (T,)
    "all_context_vecs": lambda x: context_vectors(attention_weights(attention_scores(x)), x),  # (T, d)
}


def tolerance(decimals: int) -> float:
    """Half a unit in the last printed place, plus SLACK: 5.01e-5 for 4 decimals."""
    return 0.5 * 10.0**-decimals + SLACK


@dataclass(frozen=True)
class ParityEntry:
    """One printed value of the book next to ours.

    book, ours: flat tuples in row-major order (ours at full precision); shape says how to fold them.
    matches: one flag per number, |ours - book| <= tolerance(decimals).
    typed: True for the inputs the notebook types in, False for the numbers it printed.
    """

    name: str
    cell: str
    execution_count: int | None
    decimals: int
    shape: tuple[int, ...]
    book: tuple[float, ...]
    ours: tuple[float, ...]
    matches: tuple[bool, ...]
    note: str = ""
    typed: bool = False

    @property
    def all_match(self) -> bool:
        return all(self.matches)

    @property
    def count(self) -> int:
        """How many numbers were compared."""
        return len(self.matches)

    @property
    def match_count(self) -> int:
        return sum(self.matches)

    @property
    def miss_count(self) -> int:
        return self.count - self.match_count

    def index(self, position: int) -> tuple[int, ...]:
        """The tensor index (0-based, as in the cell's code) of flat ``position``."""
        index = []
        for size in reversed(self.shape):
            index.append(position % size)
            position //= size
        return tuple(reversed(index))


def book_parity(inputs: torch.Tensor | None = None, reference: Sequence[BookValue] = BOOK_VALUES) -> list[ParityEntry]:
    """Compare every value in ``reference`` with ours, computed from ``inputs`` by the core.

    inputs: (6, 3), by default the book's sentence in float32 as the notebook builds it. Other
    values of the same shape are allowed; they show where the book's numbers stop applying.
    """
    if inputs is None:
        inputs = torch.tensor(BOOK_INPUTS)  # (6, 3) float32, as in the notebook
    if not isinstance(inputs, torch.Tensor):
        raise InputError(f"inputs must be a torch.Tensor of shape (6, 3), not {type(inputs).__name__}.")
    expected_shape = (len(BOOK_INPUTS), len(BOOK_INPUTS[0]))
    if tuple(inputs.shape) != expected_shape:
        raise InputError(
            f"The book's values are for its 6 tokens × 3 dimensions; these inputs have shape {tuple(inputs.shape)}. "
            "Compare with inputs of shape (6, 3)."
        )
    entries = []
    for value in reference:
        if value.name not in _OURS:
            raise InputError(f"No computation for book value {value.name!r}; known names: {', '.join(_OURS)}.")
        ours_tensor = _OURS[value.name](inputs)
        if tuple(ours_tensor.shape) != value.shape:
            raise InputError(
                f"Book value {value.name!r} has shape {value.shape}, but ours has {tuple(ours_tensor.shape)}."
            )
        book = value.flat()
        ours = tuple(float(v) for v in ours_tensor.double().reshape(-1).tolist())
        limit = tolerance(value.decimals)
        matches = tuple(abs(o - b) <= limit for o, b in zip(ours, book))  # NaN never matches
        entries.append(
            ParityEntry(
                name=value.name,
                cell=value.cell,
                execution_count=value.execution_count,
                decimals=value.decimals,
                shape=value.shape,
                book=book,
                ours=ours,
                matches=matches,
                note=value.note,
                typed=value.typed,
            )
        )
    return entries
