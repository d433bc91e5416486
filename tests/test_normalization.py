"""Sum normalization, naive and stable softmax, and the lab that compares them."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch.testing import assert_close

from attention_core import (
    InputError,
    compare_normalizations,
    exp_overflow_threshold,
    parse_values,
    softmax_naive,
    softmax_stable,
    sum_normalize,
)

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


def _softmax_by_hand(values: list[float]) -> list[float]:
    """Softmax in Python floats, shifted by the max so it is exact enough for any finite input."""
    largest = max(values)
    exps = [math.exp(v - largest) for v in values]
    total = math.fsum(exps)
    return [e / total for e in exps]


# --- softmax_stable, softmax_naive, sum_normalize ---------------------------------------------


@pytest.mark.parametrize("dim", [0, -1], ids=["dim0", "dim-1"])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 4), (2, 3, 5)], ids=["1", "7", "3x4", "2x3x5"])
def test_softmax_stable_equals_torch_softmax(shape, dim):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape)))
    got = softmax_stable(x, dim=dim)
    assert_close(got, torch.softmax(x, dim=dim))
    assert_close(got.sum(dim=dim), torch.ones_like(got.sum(dim=dim)))


@pytest.mark.parametrize(
    "values",
    [[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [89.0, 88.0, 1.0], [0.0, 0.0, 0.0], [-3.0e38, 3.0e38]],
    ids=["large", "very_negative", "past_float32_exp_limit", "zeros", "float32_extremes"],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_softmax_stable_on_extremes(values, dtype):
    x = torch.tensor(values, dtype=dtype)
    got = softmax_stable(x)
    assert torch.isfinite(got).all()
    assert_close(got, torch.softmax(x, dim=-1))
    assert_close(got.double(), torch.tensor(_softmax_by_hand(values), dtype=torch.float64), atol=1e-6, rtol=0.0)


@pytest.mark.parametrize("scale", [1e3, 1e6, 1e30], ids=["1e3", "1e6", "1e30"])
@pytest.mark.parametrize("dim", [0, -1], ids=["dim0", "dim-1"])
def test_softmax_stable_is_finite_on_large_random_inputs(scale, dim):
    x = torch.randn(16, 9, generator=torch.Generator().manual_seed(3)) * scale
    assert torch.isfinite(x).all()
    got = softmax_stable(x, dim=dim)
    assert torch.isfinite(got).all()
    assert_close(got, torch.softmax(x, dim=dim))


def test_softmax_naive_overflows_in_float32():
    got = softmax_naive(torch.tensor([1.0, 2.0, 3.0, 400.0]))
    assert torch.isnan(got[3])  # exp(400) = inf, inf / inf = NaN


def test_softmax_naive_is_fine_in_float64():
    x = torch.tensor([1.0, 2.0, 3.0, 400.0], dtype=torch.float64)
    got = softmax_naive(x)
    assert torch.isfinite(got).all()
    assert_close(got, torch.softmax(x, dim=-1))
    assert_close(got, torch.tensor(_softmax_by_hand([1.0, 2.0, 3.0, 400.0]), dtype=torch.float64))


@pytest.mark.parametrize("dim", [0, -1], ids=["dim0", "dim-1"])
def test_softmax_naive_equals_torch_softmax_on_moderate_inputs(dim):
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(5))
    assert_close(softmax_naive(x, dim=dim), torch.softmax(x, dim=dim))


@pytest.mark.parametrize(
    "values",
    [[0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865], [1.0, 2.0, 3.0, 400.0], [-1.0, 2.0, 3.0], [5.0]],
    ids=["book_row_2", "one_large", "negative", "single"],
)
def test_sum_normalize_divides_by_the_sum(values):
    total = math.fsum(values)
    expected = torch.tensor([v / total for v in values], dtype=torch.float64)
    assert_close(sum_normalize(torch.tensor(values, dtype=torch.float64)), expected)


def test_sum_normalize_along_dim_0():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    assert_close(sum_normalize(x, dim=0), torch.tensor([[0.25, 0.25], [0.75, 0.75]]))
    assert_close(sum_normalize(x, dim=-1), torch.tensor([[1 / 3, 2 / 3], [1 / 3, 2 / 3]]))


# --- exp_overflow_threshold -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("float16", 11.09), ("float32", 88.72), ("float64", 709.78)],
    ids=["float16", "float32", "float64"],
)
def test_exp_overflow_threshold(dtype, expected):
    threshold = exp_overflow_threshold(dtype)
    assert round(threshold, 2) == expected
    torch_dtype = TORCH_DTYPES[dtype]
    # The threshold itself may round up when stored in the dtype; take the largest representable x <= threshold.
    below = torch.tensor(threshold, dtype=torch.float64).to(torch_dtype)
    if float(below) > threshold:
        below = torch.nextafter(below, torch.tensor(-math.inf, dtype=torch_dtype))
    above = torch.nextafter(below, torch.tensor(math.inf, dtype=torch_dtype))
    assert torch.isfinite(torch.exp(below))
    assert torch.isinf(torch.exp(above))  # so the threshold is tight, to one step of the dtype
    assert torch.isinf(torch.exp(torch.tensor(threshold * 1.001, dtype=torch_dtype)))


# --- compare_normalizations -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"], ids=["float16", "float32", "float64"])
def test_compare_normalizations_respects_dtype(dtype):
    result = compare_normalizations("0.9544, 1.4950, 1.4754", dtype)
    assert result.dtype == dtype
    for name in ("values", "sum_normalized", "softmax_naive", "softmax_stable"):
        assert getattr(result, name).dtype == TORCH_DTYPES[dtype], name
    expected = torch.tensor(_softmax_by_hand([0.9544, 1.4950, 1.4754]), dtype=torch.float64)
    tolerance = 1e-3 if dtype == "float16" else 1e-6
    assert_close(result.softmax_stable.double(), expected, atol=tolerance, rtol=0.0)
    assert_close(result.softmax_naive.double(), expected, atol=tolerance, rtol=0.0)


def test_compare_float32_overflow():
    result = compare_normalizations("1,2,3,400", "float32")
    assert (
        "exp(400) overflows float32 (largest finite input ≈ 88.72), so naive softmax gives NaN." in result.notes
    )
    assert torch.isnan(result.softmax_naive).any()
    assert torch.isfinite(result.softmax_stable).all()
    assert_close(result.softmax_stable.double(), torch.tensor(_softmax_by_hand([1, 2, 3, 400]), dtype=torch.float64))
    sums = result.sums()
    assert math.isnan(sums["softmax_naive"])
    assert sums["softmax_stable"] == pytest.approx(1.0)
    assert sums["values"] == 406.0


def test_compare_float64_does_not_overflow_at_400():
    result = compare_normalizations("1,2,3,400", "float64")
    assert torch.isfinite(result.softmax_naive).all()
    assert_close(result.softmax_naive, result.softmax_stable)
    assert not any("overflow" in note for note in result.notes)


def test_compare_float16_overflows_early():
    result = compare_normalizations("1, 12", "float16")
    assert torch.isnan(result.softmax_naive).any()
    assert any("overflows float16 (largest finite input ≈ 11.09)" in note for note in result.notes)
    assert torch.isfinite(result.softmax_stable).all()


def test_compare_zero_sum():
    result = compare_normalizations("0,0,0", "float32")
    assert any("sum to 0" in note and "divides by zero" in note for note in result.notes)
    assert not torch.isfinite(result.sum_normalized).any()
    assert_close(result.softmax_stable, torch.full((3,), 1 / 3))


def test_compare_negative_values():
    result = compare_normalizations("-1, 2, 3", "float32")
    assert any("Negative weights: sum normalization is not a probability distribution" in n for n in result.notes)
    assert_close(result.sum_normalized, torch.tensor([-0.25, 0.5, 0.75]))
    assert bool((result.softmax_stable > 0).all())


def test_compare_underflow_in_float32():
    result = compare_normalizations("-1000,-1001", "float32")
    assert torch.isnan(result.softmax_naive).all()  # 0 / 0
    assert any("underflows" in note for note in result.notes)
    assert torch.isfinite(result.softmax_stable).all()
    assert_close(result.softmax_stable.double(), torch.tensor(_softmax_by_hand([-1000, -1001]), dtype=torch.float64))


def test_compare_minus_inf_gets_weight_zero():
    result = compare_normalizations("1, 2, -inf", "float32")
    assert float(result.softmax_stable[2]) == 0.0
    assert_close(result.softmax_stable[:2].double(), torch.tensor(_softmax_by_hand([1, 2]), dtype=torch.float64))
    assert any("-inf gets weight exactly 0" in note for note in result.notes)


def test_compare_value_beyond_the_dtype():
    result = compare_normalizations("70000, 1", "float16")
    assert any("70000 is beyond float16's largest finite value" in note for note in result.notes)


def test_compare_single_value():
    result = compare_normalizations("5", "float32")
    assert result.softmax_stable.tolist() == [1.0]
    assert any("A single value always gets weight 1" in note for note in result.notes)


def test_compare_all_equal():
    result = compare_normalizations("2, 2, 2, 2", "float32")
    assert_close(result.softmax_stable, torch.full((4,), 0.25))
    assert "All 4 values are equal, so softmax gives each the same weight 1/4." in result.notes


def test_compare_accepts_a_list():
    result = compare_normalizations([1.0, 2.0, 3.0], "float64")
    assert_close(result.softmax_stable, torch.tensor(_softmax_by_hand([1, 2, 3]), dtype=torch.float64))


@pytest.mark.parametrize("dtype", ["float8", "", None, "int32"], ids=["float8", "empty", "none", "int32"])
def test_compare_rejects_bad_dtype(dtype):
    with pytest.raises(InputError, match=re.escape("choose one of float16, float32, float64")):
        compare_normalizations("1, 2", dtype)


# --- parse_values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 2, 3, 400", [1.0, 2.0, 3.0, 400.0]),
        ("1 2;3\n400", [1.0, 2.0, 3.0, 400.0]),
        ("tensor([0.9544, 1.4950])", [0.9544, 1.495]),
        ("torch.tensor([[1, 2], [3, 4]])", [1.0, 2.0, 3.0, 4.0]),
        ("[1e3, -2.5e-3]", [1000.0, -0.0025]),
        ("1, -inf", [1.0, -math.inf]),
        ("7", [7.0]),
    ],
    ids=["commas", "mixed_separators", "pasted_tensor", "pasted_torch_tensor_2d", "exponents", "minus_inf", "single"],
)
def test_parse_values_accepts(text, expected):
    assert parse_values(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The values box is empty"),
        (None, "The values box is empty"),
        (", ;", "only separators"),
        ("1, two", "Value 2 is 'two', which is not a number"),
        ("nan", "Value 1 is nan"),
        ("1, inf", "Value 2 is inf"),
        (", ".join(["1"] * 1001), "There are 1,001 values; the limit is 1,000"),
        ("1, \ud800", "surrogate"),
    ],
    ids=["empty", "none", "only_separators", "word", "nan", "inf", "too_many", "surrogate"],
)
def test_parse_values_rejects(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_values(text)


def test_parse_values_accepts_exactly_the_limit():
    assert parse_values(", ".join(["1"] * 1000)) == [1.0] * 1000


def test_compare_normalizations_reports_parse_errors():
    with pytest.raises(ValueError, match="which is not a number"):
        compare_normalizations("1, two")
