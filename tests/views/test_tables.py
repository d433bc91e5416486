"""Matrices as the page's tables: a position column, a visible token column, numbers at 4 decimals."""

from __future__ import annotations

import torch
from golden import CONTEXT, INPUTS, PIECES

from attention_core import self_attention
from attention_core.views.tables import MAX_COLUMNS, matrix_table, table_label, weight_digits


def test_the_books_context_table():
    table = matrix_table(PIECES, self_attention(torch.tensor(INPUTS)).context)
    assert table["headers"] == ["#", "token", "d1", "d2", "d3"]
    assert [row[:2] for row in table["data"]] == [
        [str(i + 1), piece.replace(" ", "␣")] for i, piece in enumerate(PIECES)
    ]
    assert [row[2:] for row in table["data"]] == [[f"{v:.4f}" for v in row] for row in CONTEXT]


def test_wide_matrices_show_the_first_columns_and_say_so():
    matrix = torch.arange(2 * 20, dtype=torch.float32).reshape(2, 20) / 7
    table = matrix_table(["a", "b"], matrix, columns=[f"{j + 1}" for j in range(20)])
    assert table["headers"] == ["#", "token", *[str(j + 1) for j in range(MAX_COLUMNS)]]
    assert table["data"][1][2:] == [f"{v:.4f}" for v in matrix[1, :MAX_COLUMNS].tolist()]
    label = table_label("Context vectors z", 20, table["data"])
    assert label == f"Context vectors z (first {MAX_COLUMNS} of 20 dimensions, 4 decimals)"
    assert table_label("Context vectors z", MAX_COLUMNS, table["data"]) == "Context vectors z (4 decimals)"


def test_the_label_says_how_the_cells_are_printed():
    """Never "4 decimals" over a cell that has fewer, or one in scientific notation."""
    scores = torch.tensor([[800.0, 2.0, 790.0], [1.0, 0.5, 0.25]])
    weights = torch.softmax(scores, dim=-1)
    table = matrix_table(["a", "b"], weights, row_sums=True, supported=weight_digits(scores))
    assert table["data"][0][2:] == ["1.000", "1.000", "0.0000", "4.540e-05"]  # row 1: 4 significant digits
    assert table_label("α", 3, table["data"], "keys") == (
        "α (up to 4 decimals, as many as the computation supports; scientific notation for very small or large values)"
    )
    tiny = matrix_table(["a"], torch.tensor([[3e-7, 0.5]]))
    assert tiny["data"][0][2:] == ["3.0000e-07", "0.5000"]
    assert table_label("x", 2, tiny["data"]) == "x (4 decimals; scientific notation for very small or large values)"
