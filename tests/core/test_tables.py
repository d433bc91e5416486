"""A user's own embedding table: every accepted format gives the book's inputs, and every bad table names its problem.

The early refusals of oversized or deeply nested tables (issue 9) are in test_bad_input.py.
"""

from __future__ import annotations

import builtins

import pytest
import torch
from golden import INPUTS, WORDS

from attention_core import InputError, TableError, parse_embedding_table
from attention_core.book import BOOK_TABLE

BOOK_TENSOR = torch.tensor(INPUTS, dtype=torch.float32)
PANDAS_INDEX = [str(i) for i in range(6)]


def _rows(separator: str) -> str:
    return "\n".join(separator.join(str(v) for v in row) for row in INPUTS)


def _labeled_rows(separator: str, labels: list[str] = WORDS) -> str:
    return "\n".join(separator.join([label] + [str(v) for v in row]) for label, row in zip(labels, INPUTS))


ACCEPTED = [
    ("csv", _rows(", "), None),
    ("csv_no_spaces", _rows(","), None),
    ("csv_trailing_comma", "\n".join(line + "," for line in _rows(", ").splitlines()), None),
    ("csv_crlf_bom", "\ufeff" + _rows(",").replace("\n", "\r\n"), None),
    ("csv_labels", _labeled_rows(","), WORDS),
    ("csv_header", "token,d1,d2,d3\n" + _labeled_rows(","), WORDS),
    ("pandas_header_labels", ",0,1,2\n" + _labeled_rows(","), WORDS),
    ("pandas_header_numeric_index", ",0,1,2\n" + _labeled_rows(",", PANDAS_INDEX), PANDAS_INDEX),
    ("tsv", _rows("\t"), None),
    ("tsv_labels", _labeled_rows("\t"), WORDS),
    ("semicolon", _rows(";"), None),
    ("whitespace", _rows("   "), None),
    ("whitespace_labels", _labeled_rows(" "), WORDS),
    ("comment_lines", "# my table\n" + _rows(", ") + "\n\n", None),
    ("json", str(INPUTS), None),
    ("json_trailing_comma", "[" + ", ".join(str(row)[:-1] + ",]" for row in INPUTS) + ",]", None),
    ("book_literal", BOOK_TABLE, WORDS),
    ("plain_torch_tensor", f"torch.tensor({INPUTS})", None),
    ("tensor_with_dtype", f"torch.tensor({INPUTS}, dtype=torch.float64)", None),
]


@pytest.mark.parametrize(
    ("text", "labels"), [(text, labels) for _, text, labels in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_table_formats_parse_to_the_book_inputs(text, labels):
    table = parse_embedding_table(text)
    assert table.vectors.dtype == torch.float32
    assert torch.equal(table.vectors, BOOK_TENSOR)
    assert table.labels == labels


def test_table_boundaries_are_accepted():
    assert parse_embedding_table("\n".join(["1, 2"] * 256)).vectors.shape == (256, 2)
    assert parse_embedding_table(", ".join(["0.5"] * 768)).vectors.shape == (1, 768)
    assert parse_embedding_table(str([[0.5] * 768] * 256)).vectors.shape == (256, 768)


def test_table_near_float32_max_is_accepted():
    table = parse_embedding_table("3e38, -3e38")
    assert torch.isfinite(table.vectors).all()


REJECTED = [
    ("empty", "", ["The table is empty"]),
    ("whitespace_only", "  \n\t \n", ["The table is empty"]),
    ("none", None, ["The table is empty"]),
    ("not_text", 5, ["The table must be text, not int"]),
    ("ragged_csv", "1, 2, 3\n4, 5, 6\n7, 8", ["Row 3 has 2 numbers but row 1 has 3", "decimal mark"]),
    ("ragged_whitespace", "1 2 3\n4 5\n", ["Row 2 has 2 numbers but row 1 has 3"]),
    ("ragged_json", "[[1, 2], [3]]", ["Row 2 has 1 number but row 1 has 2"]),
    ("non_number", "1, 2, 3\n4, x5, 6", ["Row 2, column 2", "'x5'", "not a number"]),
    ("non_number_labeled", "a 1 2\nb 3 oops", ["Row 2, column 2", "'oops'", "not a number"]),
    ("non_number_json", "[[1, two]]", ["Row 1, column 2 is 'two'", "not a number"]),
    ("comma_decimal_mark", "0,43 0,15 0,89", ["Row 1", "comma as the decimal mark", "0.43"]),
    ("nan", "1, 2\n3, nan", ["Row 2, column 2 is nan", "finite"]),
    ("inf", "1, inf", ["Row 1, column 2 is inf", "finite"]),
    ("nan_json", "[[1, NaN]]", ["Row 1, column 2 is nan"]),
    ("beyond_float32", "1, 2\n1e39, 1", ["Row 2, column 1 is 1e+39", "beyond float32's range"]),
    ("beyond_float32_json", "[[1e39, 1]]", ["Row 1, column 1 is 1e+39", "beyond float32's range"]),
    ("too_many_rows", "\n".join(["1, 2"] * 258), ["more than 256 rows", "the limit is 256"]),
    ("too_many_json_rows", str([[1, 2]] * 257), ["257 rows", "the limit is 256"]),
    ("too_many_columns", ", ".join(["1"] * 769), ["769 columns", "the limit is 768"]),
    ("over_one_megabyte", "1," * 600_000, ["1,200,000 bytes", "the limit is 1,000,000 bytes"]),
    ("single_list", "[1, 2, 3]", ["single list"]),
    ("unbalanced", "[[1, 2], [3, 4]", ["brackets do not match"]),
    ("labels_without_numbers", "a\nb", ["Row 1 has no numbers"]),
    ("lone_surrogate", "1, 2\ud800", ["surrogate"]),
]


@pytest.mark.parametrize(("text", "fragments"), [(t, f) for _, t, f in REJECTED], ids=[c[0] for c in REJECTED])
def test_bad_tables_are_refused_with_the_row_and_problem(text, fragments):
    with pytest.raises(InputError) as caught:
        parse_embedding_table(text)
    for fragment in fragments:
        assert fragment in str(caught.value)


CODE = [
    ("call", "__import__('os').system('echo hi')"),
    ("call_in_list", "[[1, __import__('os')]]"),
    ("call_in_tensor", "torch.tensor(__import__('os').system('echo hi'))"),
    ("expression_after", "torch.tensor([[1, 2]]).numpy()"),
    ("lambda", "[[(lambda: 1)(), 2]]"),
    ("dict", '[{"a": 1}]'),
]


@pytest.mark.parametrize("text", [t for _, t in CODE], ids=[c[0] for c in CODE])
def test_code_is_never_evaluated(text, monkeypatch, capfd):
    def refuse(*args, **kwargs):
        raise AssertionError("the table parser must not evaluate code")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    with pytest.raises(TableError):
        parse_embedding_table(text)
    out, err = capfd.readouterr()
    assert "hi" not in out and "hi" not in err
