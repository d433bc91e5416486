"""Sum normalization, naive and stable softmax, and the lab that compares them."""

from __future__ import annotations

import math
import re

import pytest
import torch
from golden import SCORES_2
from torch.testing import assert_close

from attention_core import (
    InputError,
    compare_normalizations,
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
    [SCORES_2, [1.0, 2.0, 3.0, 400.0], [-1.0, 2.0, 3.0], [5.0]],
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


# --- compare_normalizations -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"], ids=["float16", "float32", "float64"])
def test_compare_normalizations_respects_dtype(dtype):
    result = compare_normalizations(", ".join(map(str, SCORES_2)), dtype)
    assert result.dtype == dtype
    for name in ("values", "sum_normalized", "softmax_naive", "softmax_stable"):
        assert getattr(result, name).dtype == TORCH_DTYPES[dtype], name
    expected = torch.tensor(_softmax_by_hand(SCORES_2), dtype=torch.float64)
    tolerance = 1e-3 if dtype == "float16" else 1e-6
    assert_close(result.softmax_stable.double(), expected, atol=tolerance, rtol=0.0)
    assert_close(result.softmax_naive.double(), expected, atol=tolerance, rtol=0.0)


@pytest.mark.parametrize(
    ("values", "dtype", "naive_finite"),
    [
        ("1,2,3,400", "float32", False),
        ("1,2,3,400", "float64", True),
        ("1, 12", "float16", False),
        ("-700,-701", "float32", False),
        ("-700,-701", "float64", True),
    ],
    ids=["400_float32", "400_float64", "12_float16", "underflow_float32", "underflow_float64"],
)
def test_compare_naive_fails_exactly_where_exp_does_and_stable_never(values, dtype, naive_finite):
    result = compare_normalizations(values, dtype)
    numbers = [float(v) for v in values.split(",")]
    assert bool(torch.isfinite(result.softmax_naive).all()) is naive_finite
    assert torch.isfinite(result.softmax_stable).all()
    tolerance = 1e-3 if dtype == "float16" else 1e-6
    assert_close(
        result.softmax_stable.double(),
        torch.tensor(_softmax_by_hand(numbers), dtype=torch.float64),
        atol=tolerance,
        rtol=0.0,
    )
    if naive_finite:
        assert_close(result.softmax_naive, result.softmax_stable)


def test_compare_sums():
    sums = compare_normalizations("1,2,3,400", "float32").sums()
    assert math.isnan(sums["softmax_naive"])
    assert sums["softmax_stable"] == pytest.approx(1.0)
    assert sums["values"] == 406.0
    assert sums["sum_normalized"] == pytest.approx(1.0)


def test_compare_zero_sum_divides_by_zero():
    result = compare_normalizations("0,0,0", "float32")
    assert not torch.isfinite(result.sum_normalized).any()
    assert_close(result.softmax_stable, torch.full((3,), 1 / 3))


def test_compare_negative_values():
    result = compare_normalizations("-1, 2, 3", "float32")
    assert_close(result.sum_normalized, torch.tensor([-0.25, 0.5, 0.75]))
    assert bool((result.softmax_stable > 0).all())


def test_compare_minus_inf_gets_weight_zero():
    result = compare_normalizations("1, 2, -inf", "float32")
    assert float(result.softmax_stable[2]) == 0.0
    assert_close(result.softmax_stable[:2].double(), torch.tensor(_softmax_by_hand([1, 2]), dtype=torch.float64))


def test_compare_keeps_the_typed_values():
    result = compare_normalizations("65519, 70000, 1", "float16")
    assert result.typed == [65519.0, 70000.0, 1.0]
    assert result.values.tolist() == [65504.0, math.inf, 1.0]  # rounded down, and beyond float16's range


def test_compare_accepts_a_list_and_a_tensor():
    expected = torch.tensor(_softmax_by_hand([1, 2, 3]), dtype=torch.float64)
    assert_close(compare_normalizations([1.0, 2.0, 3.0], "float64").softmax_stable, expected)
    assert_close(compare_normalizations(torch.tensor([1.0, 2.0, 3.0]), "float64").softmax_stable, expected)


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
        ("1, 1e309", "Value 2 is inf"),
        (", ".join(["1"] * 1001), "There are 1,001 values; the limit is 1,000"),
        ("1" * 100_001, "100,001 characters; the limit is 100,000"),
        ("1, \ud800", "surrogate"),
    ],
    ids=[
        "empty",
        "none",
        "only_separators",
        "word",
        "nan",
        "inf",
        "beyond_float64",
        "too_many",
        "too_many_chars",
        "surrogate",
    ],
)
def test_parse_values_rejects(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_values(text)


def test_parse_values_accepts_exactly_the_limit():
    assert parse_values(", ".join(["1"] * 1000)) == [1.0] * 1000


@pytest.mark.parametrize("values", ["1, two", ["1", object()]], ids=["text", "list"])
def test_compare_normalizations_reports_bad_values(values):
    with pytest.raises(InputError, match="not a number|must be numbers"):
        compare_normalizations(values)
