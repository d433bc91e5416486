"""The book's printed values beside ours, as the page shows them: one summary line, one table per notebook cell."""

from __future__ import annotations

import dataclasses

import golden
import pytest

from attention_core.book import BOOK_VALUES
from attention_core.parity import book_parity
from attention_core.views.parity import parity_markdown, parity_summary


@pytest.fixture(scope="module")
def entries():
    return book_parity()


def test_summary_counts_printed_numbers_and_typed_inputs_apart(entries):
    """Issue 13, item 11: the 18 numbers the notebook types in are not printed numbers."""

    def size(values: list) -> int:
        return sum(size(v) for v in values) if isinstance(values[0], list) else len(values)

    # attn_scores_2, res (printed twice), _tmp, _naive, attn_weights_2, context_vec_2, the scores (loops and matrix),
    # the weights, their row sums, the context vectors.
    printed = sum(
        size(v)
        for v in (
            golden.SCORES_2,
            [0, 0],
            golden.SUM_NORMALIZED_2,
            golden.WEIGHTS_2,
            golden.WEIGHTS_2,
            golden.CONTEXT_2,
            golden.SCORES,
            golden.SCORES,
            golden.WEIGHTS,
            golden.ROW_SUMS,
            golden.CONTEXT,
        )
    )
    typed = size(golden.INPUTS)
    assert (printed, typed) == (161, 18)
    summary = parity_summary(entries)
    assert summary.startswith(
        f"**{printed} of {printed} printed numbers match** (all match), "
        f"and {typed} of {typed} typed-in input numbers are the notebook's."
    )


def test_markdown_quotes_each_cell_and_marks_each_number(entries):
    markdown = parity_markdown(entries)
    total = sum(entry.count for entry in entries)
    assert markdown.count("| ✓ |") == 6 + 6 * 1 + 3 * 6 + 1 + 6  # one mark per printed row: vectors are one row
    assert "✗" not in markdown
    for value in BOOK_VALUES:
        count = len(value.flat())
        assert f"```python\n{value.cell}\n```" in markdown
        assert f"**`{value.name}`** (In [{value.execution_count}]) ✓ {count}/{count}" in markdown
    scores_2 = " ".join(f"{v:.4f}" for v in golden.SCORES_2)
    assert f"| — | {scores_2} | {scores_2} | ✓ |" in markdown
    assert "| 6 | 0.4177 0.6503 0.5645 | 0.4177 0.6503 0.5645 | ✓ |" in markdown
    assert "| 2 | 0.55 0.87 0.66 | 0.55 0.87 0.66 | ✓ |" in markdown  # the inputs, both at their 2 decimals
    assert total == 179


def test_a_wrong_value_is_marked_on_its_row(entries):
    weights = next(e for e in entries if e.name == "attn_weights")
    book = list(weights.book)
    book[15] += 0.001  # row 3, column 4
    wrong = dataclasses.replace(weights, book=tuple(book), matches=tuple(i != 15 for i in range(36)))
    markdown = parity_markdown([wrong if e is weights else e for e in entries])
    assert markdown.startswith("**160 of 161 printed numbers match** (1 differ)")
    assert "**`attn_weights`** (In [11]) ✗ 35/36" in markdown
    crosses = [line for line in markdown.splitlines() if line.endswith("| ✗ |")]
    assert len(crosses) == 1 and crosses[0].startswith("| 3 | 0.1390 0.2369 0.2326 0.1252 ")


def test_summary_of_nothing():
    assert parity_summary([]).startswith("**0 of 0 printed numbers match** (all match).")
