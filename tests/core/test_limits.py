"""The input checks every entry point shares, the one number rule, and the overflow limit."""

from __future__ import annotations

import math
import re

import pytest
import torch

from attention_core import (
    MAX_TEXT_CHARS,
    MAX_TOKENS,
    InputError,
    check_dim,
    check_dtype,
    check_index,
    check_seed,
    check_temperature,
    check_text,
    check_token_count,
    exp_overflow_threshold,
    read_number,
)
from attention_core.limits import FLOAT_MAX, excerpt, quoted

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


# --- read_number: the one rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.43", 0.43),
        (" 0.43 ", 0.43),
        ("-1.5e3", -1500.0),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1E2", 100.0),
        ("inf", math.inf),
        ("-Infinity", -math.inf),
        ("+INF", math.inf),
    ],
    ids=[
        "decimal",
        "padded",
        "exponent",
        "plus_sign",
        "leading_point",
        "trailing_point",
        "capital_e",
        "inf",
        "minus_infinity",
        "plus_inf_caps",
    ],
)
def test_read_number_accepts_ascii_decimals_and_infinities(text, expected):
    assert read_number(text) == expected


def test_read_number_accepts_nan():
    assert math.isnan(read_number("NaN"))


@pytest.mark.parametrize(
    "text",
    ["3_0", "٣", "１", "0x10", "1e", "--1", "1,5", "", "   ", "one", "1 2", "nanx", "1" * 41],
    ids=[
        "underscore",
        "arabic_indic_digit",
        "fullwidth_digit",
        "hex",
        "bare_exponent",
        "double_sign",
        "decimal_comma",
        "empty",
        "blank",
        "word",
        "two_numbers",
        "nan_prefix",
        "longer_than_40",
    ],
)
def test_read_number_refuses_everything_else(text):
    assert read_number(text) is None


# --- check_dim, check_seed, check_dtype --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (" 3 ", 3), (3.0, 3), ("3.0", 3), ("1e2", 100), (1, 1), (768, 768)],
    ids=["int", "str", "padded_str", "integral_float", "integral_float_str", "exponent_str", "min", "max"],
)
def test_check_dim_accepts(value, expected):
    result = check_dim(value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "whole number, not True"),
        (3.5, "whole number, not 3.5"),
        ("3.5", "whole number, not 3.5"),
        ("x", "whole number, not 'x'"),
        ("", "embedding dimension is empty"),
        (None, "embedding dimension is empty"),
        ([3], "whole number, not list"),
        (float("nan"), "whole number, not nan"),
        (float("inf"), "whole number, not inf"),
        (0, "The embedding dimension is 0; it must be between 1 and 768"),
        (769, "The embedding dimension is 769; it must be between 1 and 768"),
    ],
    ids=["bool", "fraction", "fraction_str", "word", "empty", "none", "list", "nan", "inf", "zero", "too_large"],
)
def test_check_dim_refuses(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_dim(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), ("123", 123), (5.0, 5), (2**32 - 1, 2**32 - 1), (str(2**32 - 1), 2**32 - 1)],
    ids=["zero", "str", "integral_float", "max", "max_str"],
)
def test_check_seed_accepts(value, expected):
    assert check_seed(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "The seed is -1; it must be between 0 and 4,294,967,295 (2^32 - 1)"),
        (2**32, "The seed is 4294967296; it must be between 0 and 4,294,967,295"),
        (True, "The seed must be a whole number, not True"),
        (1.5, "The seed must be a whole number, not 1.5"),
        (None, "The seed is empty"),
    ],
    ids=["negative", "too_large", "bool", "fraction", "none"],
)
def test_check_seed_refuses(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_seed(value)


@pytest.mark.parametrize("value", ["float16", " float64 "], ids=["float16", "padded"])
def test_check_dtype_accepts(value):
    assert check_dtype(value) == value.strip()


@pytest.mark.parametrize(
    "value", ["float8", "", None, "Float32", 32], ids=["float8", "empty", "none", "capitalized", "number"]
)
def test_check_dtype_refuses_with_the_allowed_list(value):
    with pytest.raises(InputError, match=re.escape("choose one of float16, float32, float64")):
        check_dtype(value)


# --- check_text and check_token_count -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [" ", "\n", "a", "x" * MAX_TEXT_CHARS, "a\x00b\u200b\u200fשלום\t\r\n", "🦀"],
    ids=["single_space", "newline", "one_char", "at_limit", "control_zero_width_rtl", "emoji"],
)
def test_check_text_accepts_anything_that_yields_a_token(text):
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "The text is empty"),
        ("", "The text is empty"),
        (5, "The text must be a string, not int"),
        ("x" * (MAX_TEXT_CHARS + 1), "The text has 10,001 characters; the limit is 10,000"),
        ("a\ud800b", "invalid character at position 2 (a lone UTF-16 surrogate, U+D800)"),
    ],
    ids=["none", "empty", "not_text", "too_long", "lone_surrogate"],
)
def test_check_text_refuses(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_text(text)


def test_check_token_count():
    check_token_count(MAX_TOKENS)
    with pytest.raises(InputError, match=re.escape("The text has 257 tokens; the limit is 256")):
        check_token_count(MAX_TOKENS + 1)


# --- check_index ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (5, 5), ("1", 1), (2.0, 2)], ids=["first", "last", "str", "float"]
)
def test_check_index_accepts(value, expected):
    assert check_index(value, "query", 6) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (6, "The query index is 6; it must be between 0 and 5 (tokens 1 to 6, counted from 0)."),
        (-1, "The query index is -1; it must be between 0 and 5"),
        (1.5, "The query must be a whole number, not 1.5."),
        (True, "The query must be a whole number, not True."),
        ("x", "The query must be a whole number, not 'x'."),
    ],
    ids=["past_end", "negative", "fraction", "bool", "word"],
)
def test_check_index_refuses(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_index(value, "query", 6)


# --- check_temperature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), ("2", 2.0), (" 0.5 ", 0.5), ("1e1", 10.0), (0.05, 0.05), ("50.0", 50.0)],
    ids=["int", "str", "padded_str", "exponent_str", "min", "max_str"],
)
def test_check_temperature_accepts(value, expected):
    result = check_temperature(value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "temperature is empty"),
        ("warm", "not 'warm'"),
        (True, "not True"),
        ([1.0], "not list"),
        ("nan", "NaN (not a number)"),
        ("-inf", "temperature is -inf"),
        (0, "temperature is 0; it must be greater than 0"),
        (0.01, "temperature is 0.01; it must be a number between 0.05 and 50"),
        (50.5, "temperature is 50.5; it must be a number between 0.05 and 50"),
    ],
    ids=["none", "word", "bool", "list", "nan_str", "minus_inf_str", "zero", "too_small", "too_large"],
)
def test_check_temperature_refuses_and_says_what_is_allowed(value, message):
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        check_temperature(value)
    assert "between 0.05 and 50" in str(caught.value)


# --- quoting user input ------------------------------------------------------------------------------


def test_excerpt_and_quoted_cut_long_input():
    assert excerpt("short") == "short"
    long = "x" * 1000
    assert len(excerpt(long)) == 31 and excerpt(long).endswith("…")
    assert quoted(long) == repr("x" * 30 + "…")
    assert len(quoted(list(range(1000)))) == 31


# --- the overflow limit ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_max_is_torchs(dtype):
    assert FLOAT_MAX[dtype] == torch.finfo(TORCH_DTYPES[dtype]).max


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_exp_overflow_threshold_is_tight(dtype):
    threshold = exp_overflow_threshold(dtype)
    torch_dtype = TORCH_DTYPES[dtype]
    # The largest representable x <= threshold has a finite exp, and the next one up does not.
    below = torch.tensor(threshold, dtype=torch.float64).to(torch_dtype)
    if float(below) > threshold:
        below = torch.nextafter(below, torch.tensor(-math.inf, dtype=torch_dtype))
    above = torch.nextafter(below, torch.tensor(math.inf, dtype=torch_dtype))
    assert torch.isfinite(torch.exp(below))
    assert torch.isinf(torch.exp(above))
