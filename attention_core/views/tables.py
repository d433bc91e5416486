"""Matrices as table values for the page: a position column, a token column, numbers at 4 decimals."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..tokens import visible_token
from .numbers import DECIMALS, num, softmax_digits

# The page's tables show this many columns; the API and the exports carry all of them.
MAX_COLUMNS = 16


def matrix_table(
    tokens: Sequence[str],
    matrix: torch.Tensor,
    *,
    columns: Sequence[str] | None = None,
    row_sums: bool = False,
    supported: Sequence[int] | None = None,
) -> dict:
    """``{"headers", "data"}`` for a (T, n) matrix: ``#``, ``token``, then at most MAX_COLUMNS columns.

    columns: the column labels (default d1, d2, …). row_sums: add a column with each whole row's sum (the weights'
    rows sum to 1, as the chapter checks with ``attn_weights.sum(dim=-1)``), right after the token, so that it stays
    in view however many columns follow. supported: each row's significant digits, when its computation supports
    fewer than the dtype carries (``weight_digits``).

    >>> matrix_table(["a"], torch.tensor([[0.5, 0.25]]))
    {'headers': ['#', 'token', 'd1', 'd2'], 'data': [['1', 'a', '0.5000', '0.2500']]}
    >>> matrix_table(["a"], torch.tensor([[0.75, 0.25]]), columns=["1", "2"], row_sums=True)["data"]
    [['1', 'a', '1.0000', '0.7500', '0.2500']]
    """
    shown = min(matrix.shape[1], MAX_COLUMNS)
    labels = list(columns)[:shown] if columns is not None else [f"d{k + 1}" for k in range(shown)]
    values = matrix[:, :shown].tolist()
    sums = matrix.double().sum(dim=-1).tolist() if row_sums else None  # (T,) the whole rows, in float64
    digits = list(supported) if supported is not None else [None] * len(values)
    rows = [
        [
            str(i + 1),
            visible_token(tokens[i]),
            *([num(sums[i], supported=digits[i])] if sums else []),
            *(num(v, supported=digits[i]) for v in row),
        ]
        for i, row in enumerate(values)
    ]
    return {"headers": ["#", "token", *(["row sum"] if row_sums else []), *labels], "data": rows}


def weight_digits(scores: torch.Tensor, temperature: float = 1.0) -> list[int]:
    """The significant digits each row of float32 softmax(ω / τ) supports (``numbers.softmax_digits``).

    scores: (T, T). 6 for the book's rows; fewer when scores are large (d = 768 at τ = 1: about 4).

    >>> weight_digits(torch.tensor([[1.0, 0.5], [800.0, 2.0]]))
    [6, 4]
    """
    largest = scores.abs().amax(dim=-1).double() / float(temperature)  # (T,)
    count = scores.shape[-1]
    return [softmax_digits(value, count) for value in largest.tolist()]


def table_label(what: str, columns: int, rows: Sequence[Sequence[str]], noun: str = "dimensions") -> str:
    """A table's label, saying when only the first MAX_COLUMNS columns are shown, and how its numbers are printed:
    read from ``rows`` (``matrix_table``'s data), so that it never claims 4 decimals a cell does not have.

    >>> table_label("Context vectors z", 768, [["1", "a", "0.5000"]])
    'Context vectors z (first 16 of 768 dimensions, 4 decimals)'
    >>> table_label("α", 2, [["1", "a", "1.0000", "0.205", "3.1e-07"]], "keys")
    'α (up to 4 decimals, as many as the computation supports; scientific notation for very small or large values)'
    """
    shown = f"first {MAX_COLUMNS} of {columns} {noun}, " if columns > MAX_COLUMNS else ""
    return f"{what} ({shown}{_digits_note([cell for row in rows for cell in row[2:]])})"


def _digits_note(cells: Sequence[str]) -> str:
    """How ``num`` printed these cells."""
    scientific = any("e" in cell for cell in cells)
    fixed = [cell for cell in cells if "e" not in cell and cell[-1:].isdigit()]  # not NaN, inf or e-notation
    fewer = any(len(cell.partition(".")[2]) < DECIMALS for cell in fixed)
    note = "up to 4 decimals, as many as the computation supports" if fewer else "4 decimals"
    return note + ("; scientific notation for very small or large values" if scientific else "")
