"""The book's printed values in the library (book.py) against tests/golden.py, and how ours compare (parity.py)."""

from __future__ import annotations

import dataclasses
import math
import re

import golden
import pytest
import torch
from reference import fsum_scores

from attention_core import InputError, parse_embedding_table
from attention_core.book import BOOK_INPUTS, BOOK_TABLE, BOOK_TOKENS, BOOK_VALUES, BookValue, book_value
from attention_core.parity import book_parity, tolerance

# The library's values by name, and the same numbers as typed in golden.py.
GOLDEN = {
    "inputs": golden.INPUTS,
    "attn_scores_2": golden.SCORES_2,
    "res": [golden.SCORES_2[0]] * 2,
    "attn_weights_2_tmp": golden.SUM_NORMALIZED_2,
    "attn_weights_2_naive": golden.WEIGHTS_2,
    "attn_weights_2": golden.WEIGHTS_2,
    "context_vec_2": golden.CONTEXT_2,
    "attn_scores_loops": golden.SCORES,
    "attn_scores": golden.SCORES,
    "attn_weights": golden.WEIGHTS,
    "attn_weights_row_sums": golden.ROW_SUMS,
    "all_context_vecs": golden.CONTEXT,
}
NAMES = [value.name for value in BOOK_VALUES]


def _nested_lists(value: object) -> object:
    return [_nested_lists(item) for item in value] if isinstance(value, (tuple, list)) else value


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


# --- the library's copy of the book ------------------------------------------------------------------


def test_every_book_value_has_a_golden_twin():
    assert sorted(NAMES) == sorted(GOLDEN) and len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_book_values_are_the_golden_ones(name):
    assert _nested_lists(book_value(name).printed) == GOLDEN[name]


def test_book_values_are_in_notebook_order_and_only_the_inputs_are_typed():
    counts = [value.execution_count for value in BOOK_VALUES]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert [value.name for value in BOOK_VALUES if value.typed] == ["inputs"]


def test_book_tokens_inputs_and_table_are_the_golden_ones():
    assert list(BOOK_TOKENS) == golden.WORDS
    assert _nested_lists(BOOK_INPUTS) == golden.INPUTS
    table = parse_embedding_table(BOOK_TABLE)  # the one literal: "Load the book's example" pastes it
    assert table.labels == golden.WORDS
    assert torch.equal(table.vectors, torch.tensor(golden.INPUTS))
    assert BOOK_TABLE in book_value("inputs").cell


@pytest.mark.parametrize("name", [n for n in NAMES if book_value(n).output], ids=str)
def test_printed_numbers_are_the_output_text(name):
    """The numbers, formatted as torch prints them, appear in order in the verbatim output."""
    value = book_value(name)
    shown = [f"{v:.{value.decimals}f}" for v in value.flat()]
    printed_numbers = re.findall(r"\d+\.\d*", value.output)
    runs = [printed_numbers[i : i + len(shown)] for i in range(len(printed_numbers) - len(shown) + 1)]
    assert shown in runs, (shown, printed_numbers)


def test_golden_values_agree_with_each_other_and_the_inputs():
    """Independent of torch: the exact dot products of the typed inputs round to the printed scores, and so on."""
    exact = fsum_scores(golden.INPUTS)
    assert all(abs(exact[i][j] - golden.SCORES[i][j]) <= 0.5e-4 for i in range(6) for j in range(6))
    assert golden.SCORES[1] == golden.SCORES_2 and golden.WEIGHTS[1] == golden.WEIGHTS_2
    assert golden.CONTEXT[1] == golden.CONTEXT_2
    row = exact[1]
    assert all(abs(s / math.fsum(row) - b) <= 0.5e-4 for s, b in zip(row, golden.SUM_NORMALIZED_2))
    for i, weights in enumerate(golden.WEIGHTS):
        exps = [math.exp(s) for s in exact[i]]
        assert all(abs(e / math.fsum(exps) - b) <= 0.5e-4 for e, b in zip(exps, weights))
        for k in range(3):  # the printed context vectors are the printed weights times the inputs, up to rounding
            z = math.fsum(weights[j] * golden.INPUTS[j][k] for j in range(6))
            assert abs(z - golden.CONTEXT[i][k]) <= 0.5e-4 + 0.5e-4 * math.fsum(golden.INPUTS[j][k] for j in range(6))


def test_book_value_lookup_names_the_choices():
    with pytest.raises(InputError, match=r"No book value named 'context_vec_3'; the names are: inputs, attn_scores_2"):
        book_value("context_vec_3")


# --- parity: ours against the book ---------------------------------------------------------------


@pytest.fixture(scope="module")
def entries():
    return book_parity()


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_every_printed_number_matches_ours(entries, name):
    entry = next(e for e in entries if e.name == name)
    assert entry.count == len(book_value(name).flat()) > 0
    assert entry.typed is book_value(name).typed
    misses = [(entry.index(i), b, o) for i, (b, o, m) in enumerate(zip(entry.book, entry.ours, entry.matches)) if not m]
    assert misses == [] and entry.all_match and entry.miss_count == 0
    for ours, printed in zip(entry.ours, entry.book):
        assert round(ours, entry.decimals) == pytest.approx(printed, abs=1e-12)


def test_ours_are_full_precision_not_rounded(entries):
    scores_2 = next(e for e in entries if e.name == "attn_scores_2")
    assert scores_2.ours[0] != golden.SCORES_2[0]
    assert scores_2.ours[0] == pytest.approx(0.55 * 0.43 + 0.87 * 0.15 + 0.66 * 0.89, abs=1e-6)


def test_closest_call_is_within_the_tolerance(entries):
    """attn_weights_2_tmp[0] is 0.1454501 in float32: about 1e-7 from the rounding boundary, still 0.1455."""
    weights_tmp = next(e for e in entries if e.name == "attn_weights_2_tmp")
    assert weights_tmp.ours[0] == pytest.approx(0.1454501, abs=1e-7)
    worst = max(abs(o - b) for e in entries for o, b in zip(e.ours, e.book) if e.decimals == 4)
    assert 4.9e-5 < worst <= tolerance(4)


@pytest.mark.parametrize(
    ("name", "position", "index"),
    [("attn_scores_2", 0, (0,)), ("attn_weights", 15, (2, 3)), ("all_context_vecs", 17, (5, 2)), ("res", 1, (1,))],
    ids=["scores_2_first", "weights_2_3", "context_last", "res_second"],
)
def test_a_wrong_reference_value_is_exactly_one_miss(name, position, index):
    entries = book_parity(reference=_replace_printed(name, position, 0.001))
    wrong = next(e for e in entries if e.name == name)
    assert [i for i, m in enumerate(wrong.matches) if not m] == [position]
    assert wrong.index(position) == index
    assert all(e.all_match for e in entries if e.name != name)


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
    by_name = {e.name: e for e in book_parity(torch.tensor(golden.INPUTS) + 0.01)}
    assert by_name["inputs"].miss_count == 18
    assert not by_name["attn_scores"].all_match
    assert by_name["attn_weights_row_sums"].all_match  # softmax rows sum to 1 whatever the inputs


def test_float64_inputs_match_too():
    assert all(e.all_match for e in book_parity(torch.tensor(golden.INPUTS, dtype=torch.float64)))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.ones(5, 3), r"6 tokens × 3 dimensions; these inputs have shape \(5, 3\)"),
        (torch.ones(18), r"these inputs have shape \(18,\)"),
        ([[0.43, 0.15, 0.89]], r"must be a torch.Tensor of shape \(6, 3\), not list"),
    ],
    ids=["five_tokens", "flat", "list"],
)
def test_bad_inputs_are_refused(inputs, message):
    with pytest.raises(InputError, match=message):
        book_parity(inputs)


def test_a_reference_without_a_computation_or_of_the_wrong_shape_is_refused():
    with pytest.raises(InputError, match=r"No computation for book value 'attn_scores_3'"):
        book_parity(reference=(dataclasses.replace(book_value("res"), name="attn_scores_3"),))
    with pytest.raises(InputError, match=r"'attn_scores_2' has shape \(2,\), but ours has \(6,\)"):
        book_parity(reference=(dataclasses.replace(book_value("attn_scores_2"), printed=tuple(golden.SCORES_2[:2])),))
