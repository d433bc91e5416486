"""The one number formatter: 4 decimals as the book prints, never more significant digits than the dtype carries."""

from __future__ import annotations

import math
import random
import re

import pytest
from golden import SCORES_2, WEIGHTS_2
from reference import significant_digits as counted_digits

from attention_core.views.numbers import num, significant_digits

# Decimal digits each dtype carries (FLT_DIG and DBL_DIG; float16 keeps 3).
CARRIED = {"float16": 3, "float32": 6, "float64": 15}


def _sample(count: int = 400, seed: int = 0) -> list[float]:
    """Values from 1e-9 to 1e40 in size, of both signs, log-uniformly, plus a few awkward ones."""
    rng = random.Random(seed)
    values = [rng.choice((-1, 1)) * 10 ** rng.uniform(-9, 40) for _ in range(count)]
    return values + [0.99999, 0.999995, 99999.99, 999999.6, 5e-5, 4.9999e-5, 1e-4, 9.99995, 373123.3125, 65504.0]


def _last_place(text: str) -> float:
    """The value of one unit in the last printed digit of ``text``."""
    mantissa, _, exponent = text.replace(r" \times 10^", "e").replace("{", "").replace("}", "").partition("e")
    places = len(mantissa.partition(".")[2])
    return 10.0 ** ((int(exponent) if exponent else 0) - places)


@pytest.mark.parametrize("dtype", list(CARRIED))
@pytest.mark.parametrize("latex", [False, True], ids=["text", "latex"])
def test_never_more_digits_than_the_dtype_carries_and_correctly_rounded(dtype, latex):
    for value in _sample():
        text = num(value, dtype=dtype, latex=latex)
        assert counted_digits(text) == significant_digits(text), text
        assert counted_digits(text) <= CARRIED[dtype], (value, text)
        shown = float(text.replace(r" \times 10^", "e").replace("{", "").replace("}", ""))
        # Half a unit of the last printed digit, plus the float64 spacing of the numbers themselves.
        assert abs(shown - value) <= 0.5 * _last_place(text) * (1 + 1e-9) + 2 * math.ulp(value), (value, text)
        if latex:
            assert not re.search(r"\de[+-]", text), text  # KaTeX would show "e + 10"


@pytest.mark.parametrize(
    ("value", "dtype", "expected"),
    [
        (0.95441, "float32", "0.9544"),
        (-0.3, "float32", "-0.3000"),
        (373123.3125, "float32", "373123"),  # float32 never had the decimals
        (373123.5562, "float64", "373123.5562"),
        (12345.678, "float32", "12345.7"),
        (4e-5, "float32", "4.0000e-05"),  # too small for 4 decimals
        (0.99999, "float32", "1.0000"),  # rounding carries into a new digit
        (1234567.0, "float32", "1.2346e+06"),
        (65504.0, "float16", "6.55e+04"),
        (0.0, "float32", "0.0000"),
    ],
    ids=[
        "book",
        "negative",
        "float32_large",
        "float64_large",
        "float32_five_digits",
        "small",
        "carry",
        "float32_past_six_digits",
        "float16",
        "zero",
    ],
)
def test_examples(value, dtype, expected):
    assert num(value, dtype=dtype) == expected


def test_the_books_numbers_print_as_the_book_prints_them():
    assert [num(v) for v in SCORES_2] == [f"{v:.4f}" for v in SCORES_2]
    assert [num(v) for v in WEIGHTS_2] == [f"{v:.4f}" for v in WEIGHTS_2]


@pytest.mark.parametrize(
    ("value", "text", "latex"),
    [(math.nan, "NaN", r"\text{NaN}"), (math.inf, "inf", r"\infty"), (-math.inf, "-inf", r"-\infty")],
    ids=["nan", "inf", "minus_inf"],
)
def test_non_finite(value, text, latex):
    assert (num(value), num(value, latex=True)) == (text, latex)


def test_fewer_decimals_on_request():
    assert num(13.854321, decimals=2) == "13.85"
