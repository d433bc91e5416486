"""The book's printed values beside ours: a summary line, then one compact table per notebook cell."""

from __future__ import annotations

from collections.abc import Sequence

from ..parity import SLACK, ParityEntry
from .markup import scroll_tables
from .numbers import num


def parity_summary(entries: Sequence[ParityEntry]) -> str:
    """``179 of 179 printed numbers match``, with the typed-in inputs counted apart."""
    printed = [entry for entry in entries if not entry.typed]
    typed = [entry for entry in entries if entry.typed]
    total = sum(entry.count for entry in printed)
    matched = sum(entry.match_count for entry in printed)
    verdict = "all match" if matched == total else f"{total - matched} differ"
    line = f"**{matched} of {total} printed numbers match** ({verdict})"
    if typed:
        inputs = sum(entry.count for entry in typed)
        same = sum(entry.match_count for entry in typed)
        line += f", and {same} of {inputs} typed-in input numbers are the notebook's"
    return (
        line + ". A number matches when ours rounds to the book's printed digits: it is within half a unit of the "
        f"last printed decimal (plus {SLACK:g} for float32 rounding)."
    )


def parity_markdown(entries: Sequence[ParityEntry]) -> str:
    """The summary, then for each cell: its verdict, its code (collapsed), and book beside ours, row by row."""
    lines = [parity_summary(entries), ""]
    for entry in entries:
        label = f"In [{entry.execution_count}]" if entry.execution_count is not None else "cell"
        mark = "✓" if entry.all_match else "✗"
        lines += [
            f"**`{entry.name}`** ({label}) {mark} {entry.match_count}/{entry.count}"
            + (f" — {entry.note}" if entry.note else ""),
            "",
            "<details><summary>The cell's code</summary>",
            "",
            "```python",
            entry.cell,
            "```",
            "",
            "</details>",
            "",
            "| row | book | ours | |",
            "|---:|---|---|:---:|",
        ]
        width = entry.shape[-1] if entry.shape else 1
        for row in range(max(1, entry.count // width)):
            span = slice(row * width, (row + 1) * width)
            book = " ".join(f"{value:.{entry.decimals}f}" for value in entry.book[span])
            ours = " ".join(num(value, decimals=entry.decimals) for value in entry.ours[span])
            marks = "✓" if all(entry.matches[span]) else "✗"
            lines.append(f"| {row + 1 if len(entry.shape) > 1 else '—'} | {book} | {ours} | {marks} |")
        lines.append("")
    return scroll_tables("\n".join(lines).rstrip() + "\n")
