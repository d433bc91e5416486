"""Matrices as the page's tables: a position column, a visible token column, numbers at 4 decimals."""

from __future__ import annotations

import torch
from golden import CONTEXT, INPUTS, PIECES

from attention_core import self_attention
from attention_core.views.tables import MAX_COLUMNS, matrix_table, table_label


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
    assert (
        table_label("Context vectors z", 20) == f"Context vectors z (first {MAX_COLUMNS} of 20 dimensions, 4 decimals)"
    )
    assert table_label("Context vectors z", MAX_COLUMNS) == "Context vectors z (4 decimals)"
