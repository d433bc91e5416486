"""The normalization lab in words: each note is true of the result it describes; the formulas claim nothing false."""

from __future__ import annotations

import math
import re

import pytest
import torch
from golden import SCORES_2, WEIGHTS_2
from reference import significant_digits

from attention_core import compare_normalizations, exp_overflow_threshold
from attention_core.views.lab import comparison_json, formulas, lab_table, notes, notes_markdown


def _notes(values: str, dtype: str = "float32") -> tuple[list[str], object]:
    result = compare_normalizations(values, dtype)
    return notes(result), result


# (values, dtype, a fragment one note must hold, a check on the result that makes the note true)
CASES = [
    (
        "1, 2, 3, 400",
        "float32",
        "exp(400) overflows float32",
        lambda r: math.isinf(math.exp(400)) or not torch.isfinite(torch.exp(r.values)).all(),
    ),
    (
        "1, 12",
        "float16",
        "overflows float16 (its exp is finite only up to ≈ 11.09)",
        lambda r: torch.isnan(r.softmax_naive).any(),
    ),
    (
        "-1000, -1001",
        "float32",
        "and so does every other exponential, so naive softmax divides 0 by 0",
        lambda r: (torch.exp(r.values) == 0).all() and torch.isnan(r.softmax_naive).all(),
    ),
    (
        "-1000, 1",
        "float32",
        "that weight is exactly 0, which is harmless",
        lambda r: float(r.softmax_naive[0]) == 0.0 and torch.isfinite(r.softmax_naive).all(),
    ),
    (
        "88.5, 88.5, 88.5",
        "float32",
        "Each exp is finite in float32, but their sum overflows",
        lambda r: torch.isfinite(torch.exp(r.values)).all() and torch.isinf(torch.exp(r.values).sum()),
    ),
    (
        "-1, 2, 3",
        "float32",
        "weights below 0 or above 1",
        lambda r: bool(((r.sum_normalized < 0) | (r.sum_normalized > 1)).any()),
    ),
    (
        "-1, -2, -3",
        "float32",
        "positive but in reverse order",
        lambda r: (r.sum_normalized > 0).all() and int(r.sum_normalized.argmax()) == int(r.values.argmin()),
    ),
    (
        "0, 0, 0",
        "float32",
        "sum to 0: sum normalization divides by zero",
        lambda r: not torch.isfinite(r.sum_normalized).any(),
    ),
    ("1, 2, -inf", "float32", "-inf gets weight exactly 0", lambda r: float(r.softmax_stable[2]) == 0.0),
    ("-inf, -inf", "float32", "Every value is -inf", lambda r: torch.isnan(r.softmax_stable).all()),
    ("5", "float32", "A single value always gets weight 1", lambda r: r.softmax_stable.tolist() == [1.0]),
    ("2, 2, 2, 2", "float32", "same weight 1/4", lambda r: r.softmax_stable.tolist() == [0.25] * 4),
    ("1, 20", "float32", "One value dominates", lambda r: float(r.softmax_stable.max()) > 0.999),
    (
        "65519, 1",
        "float16",
        "65519 is just above float16's largest finite value, 65504, and rounds down to it",
        lambda r: float(r.values[0]) == 65504.0,
    ),
    ("70000, 1", "float16", "70000 is beyond float16's range, so it becomes inf", lambda r: math.isinf(r.values[0])),
    ("65520", "float16", "65520 is beyond float16's range, so it becomes inf", lambda r: math.isinf(r.values[0])),
    ("-70000, 1", "float16", "becomes -inf", lambda r: float(r.values[0]) == -math.inf),
    ("1e39, 1", "float32", "beyond float32's range, so it becomes inf", lambda r: math.isinf(r.values[0])),
]


@pytest.mark.parametrize(("values", "dtype", "fragment", "holds"), CASES, ids=[f"{v}-{d}" for v, d, *_ in CASES])
def test_each_note_is_true_of_its_result(values, dtype, fragment, holds):
    found, result = _notes(values, dtype)
    assert any(fragment in note for note in found), found
    assert holds(result)


@pytest.mark.parametrize(
    ("values", "dtype", "absent"),
    [
        ("1, 2, 3, 400", "float64", "overflow"),  # exp(400) is finite in float64
        ("-1000, -1001", "float64", "below 0 or above 1"),  # all negative: weights stay within [0, 1]
        ("-inf", "float32", "always gets weight 1"),  # a fully masked row is NaN, not weight 1
        ("-inf, -inf", "float32", "same weight"),
        ("65504, 1", "float16", "rounds down"),  # exactly the largest value: nothing to say
        ("-1000, 1", "float32", "divides 0 by 0"),  # only one exponential underflows
    ],
    ids=["float64_400", "all_negative", "one_minus_inf", "two_minus_inf", "float16_max", "partial_underflow"],
)
def test_no_note_claims_what_did_not_happen(values, dtype, absent):
    found, _ = _notes(values, dtype)
    assert not any(absent in note for note in found), found


def test_the_books_scores_have_nothing_surprising():
    result = compare_normalizations(", ".join(str(v) for v in SCORES_2))
    assert notes(result) == []
    assert notes_markdown(result) == "**Notes (float32)**\n\n- Nothing surprising: all three give finite weights."


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_lab_table_shows_each_column_and_its_sum_at_the_dtypes_digits(dtype):
    result = compare_normalizations("1, 2, 3, 400", dtype)
    table = lab_table(result)
    assert table["headers"] == ["value", "sum-normalized", "naive softmax", "stable softmax"]
    rows = table["data"]
    assert len(rows) == 5 and rows[-1][0].startswith("sum: ")
    carried = {"float16": 3, "float32": 6, "float64": 15}[dtype]
    for row in rows:
        for cell in row[1:] if row is not rows[-1] else row:
            number = cell.removeprefix("sum: ")
            assert number == "NaN" or significant_digits(number) <= carried, cell
    assert [row[0] for row in rows[:4]] == ["1", "2", "3", "400"]  # the stored values, exactly
    torch_dtype = getattr(torch, dtype)
    expected = torch.softmax(torch.tensor([1.0, 2, 3, 400], dtype=torch.float64), 0).to(torch_dtype).tolist()
    assert [float(row[3]) for row in rows[:4]] == pytest.approx(expected, rel=5e-3, abs=5e-5)
    assert rows[3][2] == ("1.0000" if dtype == "float64" else "NaN")


def test_lab_table_of_the_books_scores_gives_the_books_weights():
    rows = lab_table(compare_normalizations(", ".join(str(v) for v in SCORES_2)))["data"]
    assert [float(row[2]) for row in rows[:6]] == [float(row[3]) for row in rows[:6]] == WEIGHTS_2
    assert rows[6][3] == "1.0000"


def test_comparison_json_writes_nan_and_inf_as_null():
    answer = comparison_json(compare_normalizations("1, 2, 3, 400, -inf", "float32"))
    assert list(answer) == ["values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"]
    assert answer["values"] == [1.0, 2.0, 3.0, 400.0, None]
    assert answer["softmax_naive"][3] is None
    assert answer["softmax_stable"][3] == pytest.approx(1.0) and answer["softmax_stable"][4] == 0.0
    assert any("overflows float32" in note for note in answer["notes"])


# --- the formulas: true for every input (issue 13, items 5 to 7) ----------------------------------------


def test_formulas_name_the_real_overflow_limits():
    text = formulas()
    for dtype in ("float16", "float32", "float64"):
        assert f"{exp_overflow_threshold(dtype):.2f} in {dtype}" in text


def test_formulas_claim_nothing_false():
    text = " ".join(formulas().split())
    # Sum normalization: all-negative scores give positive (reversed) weights, not negative ones.
    assert "negative weights when a score is negative" not in text
    assert "when every score is negative, the weights are positive but in reverse order" in text
    # 0 / 0 only when every exponential underflows.
    for sentence in re.split(r"(?<=\.) ", text):
        if "0 / 0" in sentence:
            assert "every" in sentence and "unless" in sentence, sentence
    # Softmax does not always stretch the gaps: it depends on the scale of the scores.
    assert "stretches the gaps" not in text
    assert "depends on the scale of the scores" in text


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_values_the_dtype_tells_apart_print_apart(dtype):
    """Issue 23, Low 5: float16 holds 1000, 1001 and 1002 exactly; they printed alike as "1.00e+03"."""
    result = compare_normalizations("1000, 1001, 1002, 0.1, 1e-7", dtype)
    shown = [row[0] for row in lab_table(result)["data"][:-1]]
    assert shown[:3] == ["1000", "1001", "1002"]
    torch_dtype = getattr(torch, dtype)
    for text, value in zip(shown, result.values.tolist()):
        assert torch.tensor(float(text), dtype=torch_dtype).item() == value, text  # reads back as the stored value
    weights = [row[3] for row in lab_table(result)["data"][:3]]
    assert len(set(weights)) == 3  # and they get different weights, as the table shows


def test_formulas_do_not_claim_every_weight_is_positive():
    """Issue 23, Low 3: exp underflows, so naive softmax can give exact zeros."""
    text = " ".join(formulas().split())
    assert "every weight is positive" not in text and "keeps every weight positive" not in text
    assert "underflows to exactly 0" in text
    assert float(compare_normalizations("0, -1000", "float32").softmax_naive[1]) == 0.0
