"""A user's own embedding table, pasted or uploaded: parsed without ``eval``, and refused early when too big.

Accepted: CSV, TSV, semicolon- or whitespace-separated rows, each with an optional leading label and an
optional header line; a JSON list of lists; or a Python ``torch.tensor([[...], ...])`` literal pasted whole,
``#`` comments included. Sizes (bytes, rows, columns, nesting) are checked before the numbers are read,
so an oversized table is refused in milliseconds.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass

import torch

from .limits import (
    FLOAT_MAX,
    MAX_TABLE_BYTES,
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    InputError,
    check_encodable,
    excerpt,
    read_number,
)


@dataclass(frozen=True)
class EmbeddingTable:
    """A user-supplied embedding table.

    labels: one label per row (the leading label column, or the comment after each row of a
        pasted ``torch.tensor`` literal), or None when the table has none.
    vectors: float32 tensor of shape (T, d).
    """

    labels: list[str] | None
    vectors: torch.Tensor


class TableError(InputError):
    """A table that cannot be parsed; the message names the row and the problem."""


FLOAT32_MAX = FLOAT_MAX["float32"]


def parse_embedding_table(text: str) -> EmbeddingTable:
    """Parse a pasted or uploaded embedding table (see the module docstring for the formats).

    >>> parse_embedding_table("Your 0.43 0.15 0.89\\njourney 0.55 0.87 0.66").labels
    ['Your', 'journey']
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TableError(f"The table must be text, not {type(text).__name__}.")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_TABLE_BYTES:
        raise TableError(
            f"The table is {size:,} bytes; the limit is {MAX_TABLE_BYTES:,} bytes (1 MB). "
            f"Use at most {MAX_TABLE_ROWS} rows and {MAX_TABLE_COLS} columns."
        )
    check_encodable(text, "table")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise TableError("The table is empty. Paste one row of numbers per token, for example: 0.43, 0.15, 0.89")
    stripped = text.strip()
    if stripped.startswith("[") or re.match(r"^(\w+\s*=\s*)?(torch\.)?tensor\s*\(", stripped):
        _refuse_large_literal(stripped)
        labels, rows = _parse_literal(stripped)
    else:
        labels, rows = _parse_delimited(text)
    return _finish(labels, rows)


def _too_many_rows(count: int | None) -> TableError:
    """``count`` None: the rows were not all counted, only found to be too many."""
    has = f"more than {MAX_TABLE_ROWS:,}" if count is None else f"{count:,}"
    return TableError(f"The table has {has} rows; the limit is {MAX_TABLE_ROWS} (one per token).")


def _too_many_columns(count: int) -> TableError:
    return TableError(f"The table has {count:,} columns; the limit is {MAX_TABLE_COLS}.")


def _refuse_large_literal(code: str) -> None:
    """Refuse a list literal that is nested too deeply or too big, from its brackets alone."""
    if re.search(r"\[\s*\[\s*\[", code):
        raise TableError("The table is nested too deeply. Use a list of rows of numbers: [[0.43, 0.15], [0.55, 0.87]].")
    if re.search(r"\[\s*\{", code):
        raise TableError(
            "The table holds JSON objects ({...}). Use a list of rows of numbers: [[0.43, 0.15], [0.55, 0.87]]."
        )
    rows = code.count("[") - 1  # one outer list, then one bracket per row
    if rows > MAX_TABLE_ROWS:
        raise _too_many_rows(rows)
    first = re.search(r"\[\s*\[([^\]]*)\]", code)
    if first is not None:
        columns = first.group(1).count(",") + 1
        if columns > MAX_TABLE_COLS + 1:  # + 1: a trailing comma
            raise _too_many_columns(columns)


def _finish(labels: list[str] | None, rows: list[list[float]]) -> EmbeddingTable:
    if not rows:
        raise TableError("The table is empty. Paste one row of numbers per token, for example: 0.43, 0.15, 0.89")
    if len(rows) > MAX_TABLE_ROWS:
        raise _too_many_rows(len(rows))
    width = len(rows[0])
    if width == 0:
        raise TableError("Row 1 has no numbers. Each row needs at least one number.")
    if width > MAX_TABLE_COLS:
        raise _too_many_columns(width)
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise TableError(
                f"Row {number} has {_numbers(len(row))} but row 1 has {width}. "
                "Every row needs the same number of columns."
            )
        for column, value in enumerate(row, start=1):
            if not math.isfinite(value):
                raise TableError(f"Row {number}, column {column} is {value}; every entry must be a finite number.")
            if abs(value) > FLOAT32_MAX:
                raise TableError(
                    f"Row {number}, column {column} is {value:g}, beyond float32's range (±{FLOAT32_MAX:.4g}). "
                    "Use smaller numbers."
                )
    return EmbeddingTable(labels=labels, vectors=torch.tensor(rows, dtype=torch.float32))


def _numbers(count: int) -> str:
    return f"{count} number" if count == 1 else f"{count} numbers"


# --- delimited text -------------------------------------------------------------------------

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$", re.ASCII)


def _number(cell: str) -> float | None:
    return read_number(cell)


def _split_lines(text: str, limit: int) -> list[tuple[int, str]]:
    """The (line number, line) pairs that hold data; stops once there are more than ``limit``."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append((number, line))
            if len(lines) > limit:
                break
    return lines


def _parse_delimited(text: str) -> tuple[list[str] | None, list[list[float]]]:
    lines = _split_lines(text, MAX_TABLE_ROWS + 1)  # + 1: a header line
    if not lines:
        return None, []
    if len(lines) > MAX_TABLE_ROWS + 1:
        raise _too_many_rows(None)
    widest = max(len(re.split(r"[\s,;]+", line.strip())) for _, line in lines[:2])
    if widest > MAX_TABLE_COLS + 2:  # + 2: a label and a trailing delimiter
        raise _too_many_columns(widest - 1)
    body = "\n".join(line for _, line in lines)
    _refuse_decimal_commas(lines)
    delimiter: str | None
    if "\t" in body:
        delimiter = "\t"
    elif ";" in body:
        delimiter = ";"
    elif "," in body:
        delimiter = ","
    else:
        delimiter = None  # runs of whitespace

    if delimiter is None:
        table = [line.split() for _, line in lines]
    else:
        table = list(csv.reader([line for _, line in lines], delimiter=delimiter, skipinitialspace=True))
        for cells in table:
            # A trailing delimiter ("1, 2, 3,") leaves an empty last cell; ignore it.
            while cells and not cells[-1].strip():
                cells.pop()

    # pandas' to_csv() header (",0,1,2") leaves the index column unnamed: that column is labels, even numeric ones.
    index_column = False
    if len(table) > 1 and _is_header(table[0]):
        index_column = not table[0][0].strip()
        table = table[1:]
    has_labels = bool(table[0]) and (index_column or _number(table[0][0]) is None)
    labels: list[str] | None = [] if has_labels else None
    rows: list[list[float]] = []
    for row_number, cells in enumerate(table, start=1):
        if labels is not None:
            labels.append(cells[0].strip() if cells else "")
            cells = cells[1:]
        row = []
        for column, cell in enumerate(cells, start=1):
            value = _number(cell)
            if value is None:
                raise TableError(_not_a_number(row_number, column, cell))
            row.append(value)
        rows.append(row)
    widths = [len(row) for row in rows]
    if delimiter == "," and len(set(widths)) > 1:
        bad = next(i for i, w in enumerate(widths, start=1) if w != widths[0])
        raise TableError(
            f"Row {bad} has {_numbers(widths[bad - 1])} but row 1 has {widths[0]}. Every row needs the same "
            "number of columns. If you wrote a comma as the decimal mark (0,43), use a point instead (0.43)."
        )
    return labels, rows


def _is_header(cells: list[str]) -> bool:
    """``token,d1,d2`` (no numbers after the first cell) or pandas' ``,0,1,2`` (an empty first cell)."""
    if len(cells) < 2:
        return False
    return not cells[0].strip() or all(_number(cell) is None for cell in cells[1:])


def _refuse_decimal_commas(lines: list[tuple[int, str]]) -> None:
    """``0,43 0,15`` or ``0,43;0,15``: commas used as decimal marks, which we cannot guess around safely."""
    for row_number, (_, line) in enumerate(lines, start=1):
        cells = re.split(r"[\s;]+", line.strip())
        marked = [cell for cell in cells if _DECIMAL_COMMA.match(cell)]
        if len(marked) >= 2 or (marked and ";" in line):
            raise TableError(
                f"Row {row_number} uses a comma as the decimal mark ({marked[0]!r}). "
                f"Write numbers with a point ({marked[0].replace(',', '.')}) "
                "and separate them with commas, tabs or spaces."
            )


def _not_a_number(row: int, column: int, cell: str) -> str:
    shown = cell.strip()
    if _DECIMAL_COMMA.match(shown):
        return (
            f"Row {row}, column {column} is {shown!r}, which uses a comma as the decimal mark. "
            f"Write it with a point: {shown.replace(',', '.')}."
        )
    if not shown:
        return f"Row {row}, column {column} is empty. Every entry must be a number."
    shown = excerpt(shown)
    return (
        f"Row {row}, column {column} is {shown!r}, which is not a number. "
        "Every entry after the optional label must be a number."
    )


# --- JSON and torch.tensor literals --------------------------------------------------------

_LITERAL_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\[) | (?P<close>\]) | (?P<comma>,) |
        (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)\b) |
        (?P<other>[^\s\[\],]+)
    )""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def _parse_literal(text: str) -> tuple[list[str] | None, list[list[float]]]:
    """Parse ``[[...], ...]`` optionally wrapped in ``torch.tensor(...)``, with ``#`` comments."""
    comments: dict[int, str] = {}
    code_lines = []
    for number, line in enumerate(text.splitlines()):
        code, hash_sign, comment = line.partition("#")
        code_lines.append(code)
        if hash_sign:
            comments[number] = comment.strip()
    code = "\n".join(code_lines)
    start, end = code.find("["), code.rfind("]")
    if start < 0 or end < 0:
        raise TableError("The table starts like a list but has no matching ']'. Check the brackets.")
    prefix, inner, suffix = code[:start], code[start : end + 1], code[end + 1 :]
    if not re.fullmatch(r"\s*((\w+\s*=\s*)?(torch\.)?tensor\s*\(\s*)?", prefix) or not re.fullmatch(
        r"\s*(,\s*dtype\s*=\s*torch\.float(16|32|64)\s*)?\)?\s*;?\s*", suffix
    ):
        raise TableError(
            "The table looks like code but is not a plain list of lists. Paste only "
            "[[0.43, 0.15, 0.89], ...] or torch.tensor([[...], ...])."
        )

    # Where each row starts, to pair rows with the book's "# journey (x^2)" comments.
    row_lines: list[int] = []
    depth, line, last = 0, 0, 0
    for bracket in re.finditer(r"[\[\]]", inner):
        line += inner.count("\n", last, bracket.start())
        last = bracket.start()
        depth += 1 if bracket.group() == "[" else -1
        if bracket.group() == "[" and depth == 2:
            row_lines.append(line + prefix.count("\n"))

    rows = _fast_rows(inner)
    if rows is None:
        rows = _scan_rows(inner)  # slow, but names the row that is wrong

    labels = None
    one_per_row = rows and len(row_lines) == len(rows) == len(set(row_lines))
    if one_per_row and all(line in comments for line in row_lines):
        labels = [_comment_label(comments[line]) for line in row_lines]
    return labels, rows


def _fast_rows(inner: str) -> list[list[float]] | None:
    """json.loads the list when it is plain JSON (trailing commas allowed); None otherwise."""
    try:
        data = json.loads(re.sub(r",(\s*\])", r"\1", inner))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        return None
    for row in data:
        for value in row:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
    return [[float(value) for value in row] for row in data]


def _scan_rows(code: str) -> list[list[float]]:
    rows: list[list[float]] = []
    depth = 0
    row: list[float] | None = None
    expect_value = True
    position = 0
    while position < len(code):
        match = _LITERAL_TOKEN.match(code, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        if match.group("open"):
            depth += 1
            if depth == 2:
                row = []
            elif depth > 2:
                raise TableError(
                    f"Row {len(rows) + 1} is nested too deeply. Use a list of rows of numbers: [[1, 2], [3, 4]]."
                )
            expect_value = True
        elif match.group("close"):
            if depth == 2 and row is not None:
                rows.append(row)
                row = None
            depth -= 1
            expect_value = False
            if depth < 0:
                raise TableError("The table has an unmatched ']'. Check the brackets.")
        elif match.group("comma"):
            expect_value = True
        elif match.group("number"):
            if depth == 1:
                raise TableError(
                    "The table is a single list. Write one list per token: [[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]]."
                )
            if row is None or not expect_value:
                raise TableError(f"Row {len(rows) + 1} is missing a comma between two numbers.")
            row.append(float(match.group("number")))
            expect_value = False
        else:
            word = match.group("other")
            cell = excerpt(word)
            raise TableError(f"Row {len(rows) + 1}, column {len(row or []) + 1} is {cell!r}, which is not a number.")
    if depth != 0:
        raise TableError("The table's brackets do not match. Check for a missing ']'.")
    return rows


def _comment_label(comment: str) -> str:
    """The book writes ``# journey  (x^2)``; the label is the word before the ``(x^i)`` note."""
    return re.sub(r"\s*\(x\^?\{?\d+\}?\)\s*$", "", comment).strip()
