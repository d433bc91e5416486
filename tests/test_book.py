"""The book's printed values (book.py) and their comparison with ours (parity.py)."""

from __future__ import annotations

import dataclasses
import doctest
import math
import re

import pytest
import torch

from attention_core import book, parity
from attention_core.book import BOOK_INPUTS, BOOK_TOKENS, BOOK_VALUES, BookValue, book_value
from attention_core.limits import InputError
from attention_core.parity import SLACK, book_parity, parity_markdown, tolerance

NAMES = [value.name for value in BOOK_VALUES]


def _replace_printed(name: str, position: int, delta: float) -> tuple[BookValue, ...]:
    """BOOK_VALUES with the flat ``position``-th printed number of ``name`` moved by ``delta``."""

    def shifted(value: BookValue) -> BookValue:
        flat = list(value.flat())
        flat[position] = round(flat[position] + delta, 10)
        if len(value.shape) == 2:
            rows, cols = value.shape
            printed: tuple = tuple(tuple(flat[r * cols : (r + 1) * cols]) for r in range(rows))
        else:
            printed = tuple(flat)
        return dataclasses.replace(value, printed=printed)

    return tuple(shifted(v) if v.name == name else v for v in BOOK_VALUES)


def _fsum_scores(rows) -> list[list[float]]:
    """ω_ij in Python floats from the literal inputs, independent of torch and of our core."""
    return [[math.fsum(a * b for a, b in zip(x_i, x_j)) for x_j in rows] for x_i in rows]


# --- the reference data --------------------------------------------------------------------------


def test_reference_has_every_value_once_in_notebook_order():
    assert NAMES == [
        "inputs",
        "attn_scores_2",
        "res",
        "attn_weights_2_tmp",
        "attn_weights_2_naive",
        "attn_weights_2",
        "context_vec_2",
        "attn_scores_loops",
        "attn_scores",
        "attn_weights",
        "attn_weights_row_sums",
        "all_context_vecs",
    ]
    counts = [value.execution_count for value in BOOK_VALUES]
    assert counts == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]


def test_book_tokens_and_inputs():
    assert BOOK_TOKENS == ("Your", "journey", "starts", "with", "one", "step")
    assert BOOK_INPUTS[1] == (0.55, 0.87, 0.66)
    assert book_value("inputs").printed == BOOK_INPUTS
    assert book_value("inputs").shape == (6, 3)
    # The inputs cell types each row with its token's name, as the notebook does.
    cell = book_value("inputs").cell
    for token, row in zip(BOOK_TOKENS, BOOK_INPUTS):
        literal = "[" + ", ".join(f"{v:.2f}" for v in row) + "]"
        assert re.search(re.escape(literal) + r".*# " + token + r"\b", cell), token


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("attn_scores_2", (6,)),
        ("res", (2,)),
        ("attn_weights_2_tmp", (6,)),
        ("attn_weights_2", (6,)),
        ("context_vec_2", (3,)),
        ("attn_scores", (6, 6)),
        ("attn_weights", (6, 6)),
        ("all_context_vecs", (6, 3)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_printed_shapes(name, shape):
    assert book_value(name).shape == shape


@pytest.mark.parametrize("name", [n for n in NAMES if book_value(n).output], ids=str)
def test_printed_numbers_are_the_output_text(name):
    """The transcribed numbers, formatted as torch prints them, appear in order in the verbatim output."""
    value = book_value(name)
    shown = [f"{v:.{value.decimals}f}" for v in value.flat()]
    printed_numbers = re.findall(r"\d+\.\d*", value.output)
    runs = [printed_numbers[i : i + len(shown)] for i in range(len(printed_numbers) - len(shown) + 1)]
    assert shown in runs, (shown, printed_numbers)


def test_printed_values_as_the_notebook_shows_them():
    assert book_value("attn_scores_2").printed == (0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865)
    assert book_value("attn_weights_2_tmp").printed == (0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656)
    assert book_value("attn_weights_2_naive").printed == (0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581)
    assert book_value("attn_weights_2").printed == book_value("attn_weights_2_naive").printed
    assert book_value("context_vec_2").printed == (0.4419, 0.6515, 0.5683)
    assert book_value("attn_scores_2").cell.startswith("query = inputs[1]  # 2nd input token is the query\n")
    assert "    attn_scores_2[i] = torch.dot(x_i, query)" in book_value("attn_scores_2").cell


def test_reference_is_self_consistent():
    scores = book_value("attn_scores").printed
    weights = book_value("attn_weights").printed
    context = book_value("all_context_vecs").printed
    assert book_value("attn_scores_2").printed == scores[1]
    assert book_value("attn_scores_loops").printed == scores
    assert all(scores[i][j] == scores[j][i] for i in range(6) for j in range(6))  # ω is symmetric
    assert book_value("res").printed == (scores[1][0], scores[1][0])
    assert book_value("attn_weights_2").printed == weights[1]
    assert book_value("context_vec_2").printed == context[1]
    # Each printed row of weights sums to 1 up to six roundings of half a unit.
    for row in weights:
        assert abs(math.fsum(row) - 1) <= 6 * 0.5e-4
    # The printed context vectors are the printed weights times the inputs, up to the weights' rounding.
    for i in range(6):
        for k in range(3):
            z = math.fsum(weights[i][j] * BOOK_INPUTS[j][k] for j in range(6))
            assert abs(z - context[i][k]) <= 0.5e-4 + 0.5e-4 * math.fsum(BOOK_INPUTS[j][k] for j in range(6))


def test_reference_scores_round_from_the_literal_inputs():
    """Independent of torch: the exact dot products of the typed-in inputs round to the printed scores."""
    exact = _fsum_scores(BOOK_INPUTS)
    printed = book_value("attn_scores").printed
    assert all(abs(exact[i][j] - printed[i][j]) <= 0.5e-4 for i in range(6) for j in range(6))
    # Sum normalization and softmax of the exact row 2, in Python floats.
    row = exact[1]
    assert all(abs(s / math.fsum(row) - b) <= 0.5e-4 for s, b in zip(row, book_value("attn_weights_2_tmp").printed))
    exps = [math.exp(s) for s in row]
    assert all(abs(e / math.fsum(exps) - b) <= 0.5e-4 for e, b in zip(exps, book_value("attn_weights_2").printed))


def test_book_value_lookup_names_the_choices():
    assert book_value("context_vec_2").execution_count == 8
    with pytest.raises(KeyError, match=r"No book value named 'context_vec_3'; the names are: inputs, attn_scores_2"):
        book_value("context_vec_3")


def test_book_value_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        book_value("res").name = "other"  # type: ignore[misc]


# --- parity: ours against the book ---------------------------------------------------------------


@pytest.fixture(scope="module")
def entries():
    return book_parity()


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_every_printed_number_matches_ours(entries, name):
    entry = next(e for e in entries if e.name == name)
    assert entry.count == len(book_value(name).flat()) > 0
    assert entry.all_match, [(entry.index(i), b, o) for i, (b, o, m) in enumerate(zip(entry.book, entry.ours, entry.matches)) if not m]
    assert entry.miss_count == 0
    for ours, printed in zip(entry.ours, entry.book):
        assert round(ours, entry.decimals) == pytest.approx(printed, abs=1e-12)


def test_ours_are_full_precision_not_rounded(entries):
    scores_2 = next(e for e in entries if e.name == "attn_scores_2")
    assert scores_2.ours[0] != 0.9544
    assert scores_2.ours[0] == pytest.approx(0.55 * 0.43 + 0.87 * 0.15 + 0.66 * 0.89, abs=1e-6)


def test_closest_call_is_within_the_documented_tolerance(entries):
    """attn_weights_2_tmp[0] is 0.14545013 in float32: 1.3e-7 from the rounding boundary, still 0.1455."""
    weights_tmp = next(e for e in entries if e.name == "attn_weights_2_tmp")
    assert weights_tmp.ours[0] == pytest.approx(0.14545013, abs=1e-8)
    worst = max(abs(o - b) for e in entries for o, b in zip(e.ours, e.book) if e.decimals == 4)
    assert 4.9e-5 < worst <= tolerance(4)
    assert tolerance(4) == pytest.approx(0.5e-4 + SLACK)


@pytest.mark.parametrize(
    ("name", "position", "index"),
    [
        ("attn_scores_2", 0, (0,)),
        ("attn_weights", 15, (2, 3)),
        ("all_context_vecs", 17, (5, 2)),
        ("res", 1, (1,)),
    ],
    ids=["scores_2_first", "weights_2_3", "context_last", "res_second"],
)
def test_a_wrong_reference_value_is_exactly_one_miss(name, position, index):
    entries = book_parity(reference=_replace_printed(name, position, 0.001))
    wrong = next(e for e in entries if e.name == name)
    assert not wrong.all_match
    assert wrong.miss_count == 1
    assert [i for i, m in enumerate(wrong.matches) if not m] == [position]
    assert wrong.index(position) == index
    assert all(e.all_match for e in entries if e.name != name)

    markdown = parity_markdown(entries)
    total = sum(e.count for e in entries)
    assert f"**{total - 1} of {total} printed numbers match** (1 differ)" in markdown
    crosses = [line for line in markdown.splitlines() if line.endswith("| ✗ |")]
    book_number = wrong.book[position]
    assert crosses == [f"| [{', '.join(map(str, index))}] | {book_number:.4f} | {wrong.ours[position]:.4f} | ✗ |"]
    section = markdown.split(f"#### `{name}`")[1].split("#### ")[0]
    assert "| ✗ |" in section
    assert f"#### `{name}` (In [{wrong.execution_count}]) ✗ {wrong.count - 1}/{wrong.count}" in markdown


@pytest.mark.parametrize(
    ("delta", "matches"),
    [(0.00004, True), (-0.00004, True), (0.00006, False), (-0.00006, False)],
    ids=["plus_0.4_unit", "minus_0.4_unit", "plus_0.6_unit", "minus_0.6_unit"],
)
def test_tolerance_is_half_a_unit_in_the_last_decimal(delta, matches):
    # ours for attn_scores_2[0] is 0.95440006 (float32), so ±0.4 units stay inside, ±0.6 units fall outside.
    entries = book_parity(reference=_replace_printed("attn_scores_2", 0, delta))
    assert next(e for e in entries if e.name == "attn_scores_2").matches[0] is matches


def test_other_inputs_show_misses():
    inputs = torch.tensor(BOOK_INPUTS) + 0.01  # (6, 3)
    entries = book_parity(inputs)
    by_name = {e.name: e for e in entries}
    assert by_name["inputs"].miss_count == 18
    assert not by_name["attn_scores"].all_match
    assert by_name["attn_weights_row_sums"].all_match  # softmax rows sum to 1 whatever the inputs
    assert "✗" in parity_markdown(entries)


def test_float64_inputs_match_too():
    assert all(e.all_match for e in book_parity(torch.tensor(BOOK_INPUTS, dtype=torch.float64)))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.ones(5, 3), r"6 tokens × 3 dimensions; these inputs have shape \(5, 3\)"),
        (torch.ones(6, 4), r"these inputs have shape \(6, 4\)"),
        (torch.ones(18), r"these inputs have shape \(18,\)"),
        ([[0.43, 0.15, 0.89]], r"must be a torch.Tensor of shape \(6, 3\), not list"),
    ],
    ids=["five_tokens", "four_dims", "flat", "list"],
)
def test_bad_inputs_are_refused(inputs, message):
    with pytest.raises(InputError, match=message):
        book_parity(inputs)


def test_unknown_reference_name_is_refused():
    reference = (dataclasses.replace(book_value("res"), name="attn_scores_3"),)
    with pytest.raises(KeyError, match=r"No computation for book value 'attn_scores_3'"):
        book_parity(reference=reference)


def test_wrong_reference_shape_is_refused():
    reference = (dataclasses.replace(book_value("attn_scores_2"), printed=(0.9544, 1.4950)),)
    with pytest.raises(ValueError, match=r"'attn_scores_2' has shape \(2,\), but ours has \(6,\)"):
        book_parity(reference=reference)


# --- the Markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_markdown_quotes_each_cell_and_marks_each_number(entries, name):
    markdown = parity_markdown(entries)
    value = book_value(name)
    assert f"```python\n{value.cell}\n```" in markdown
    assert f"#### `{name}` (In [{value.execution_count}]) ✓ {len(value.flat())}/{len(value.flat())}" in markdown


def test_markdown_rows_are_computed(entries):
    markdown = parity_markdown(entries)
    total = sum(e.count for e in entries)
    assert total == 18 + 6 + 2 + 6 + 6 + 6 + 3 + 36 + 36 + 36 + 6 + 18
    assert f"**{total} of {total} printed numbers match** (all match)" in markdown
    assert markdown.count("| ✓ |") == total
    assert "✗" not in markdown
    # Book at its printed decimals, ours at 4; the journey/Your score and the last context value.
    assert "| [0] | 0.9544 | 0.9544 | ✓ |" in markdown
    assert "| [5, 2] | 0.5645 | 0.5645 | ✓ |" in markdown
    assert "| [1, 0] | 0.55 | 0.5500 | ✓ |" in markdown


def test_markdown_of_nothing():
    assert parity_markdown([]).startswith("**0 of 0 printed numbers match** (all match)")


@pytest.mark.parametrize("module", [book, parity], ids=["book", "parity"])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
