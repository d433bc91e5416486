"""The input checks every entry point shares."""

from __future__ import annotations

import re

import pytest

from attention_core import (
    MAX_DIM,
    MAX_SEED,
    MAX_TEXT_CHARS,
    MAX_TOKENS,
    InputError,
    check_dim,
    check_dtype,
    check_seed,
    check_text,
    check_token_count,
)


def test_limits_are_the_documented_numbers():
    assert (MAX_TOKENS, MAX_DIM, MAX_TEXT_CHARS, MAX_SEED) == (256, 768, 10_000, 2**32 - 1)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


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
        (False, "whole number, not False"),
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
    ids=["true", "false", "fraction", "fraction_str", "word", "empty", "none", "list", "nan", "inf", "zero", "too_large"],
)
def test_check_dim_rejects(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_dim(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (123, 123), ("123", 123), (5.0, 5), (2**32 - 1, 2**32 - 1), (str(2**32 - 1), 2**32 - 1)],
    ids=["zero", "int", "str", "integral_float", "max", "max_str"],
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
        ("x", "The seed must be a whole number, not 'x'"),
        (None, "The seed is empty"),
    ],
    ids=["negative", "too_large", "bool", "fraction", "word", "none"],
)
def test_check_seed_rejects(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_seed(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("float16", "float16"), ("float32", "float32"), ("float64", "float64"), (" float64 ", "float64")],
    ids=["float16", "float32", "float64", "padded"],
)
def test_check_dtype_accepts(value, expected):
    assert check_dtype(value) == expected


@pytest.mark.parametrize("value", ["float8", "", None, "Float32", "int32", 32], ids=["float8", "empty", "none", "capitalized", "int32", "number"])
def test_check_dtype_rejects_with_the_allowed_list(value):
    with pytest.raises(InputError, match=re.escape("choose one of float16, float32, float64")):
        check_dtype(value)


@pytest.mark.parametrize(
    "text",
    ["a", "Your journey starts with one step", "x" * MAX_TEXT_CHARS, "a\x00b\u200b\u200fשלום\t\r\n", "🦀"],
    ids=["one_char", "book", "at_limit", "control_zero_width_rtl", "emoji"],
)
def test_check_text_accepts(text):
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "The text is empty"),
        ("", "The text is empty"),
        ("  \n\t", "The text is empty"),
        (5, "The text must be a string, not int"),
        ("x" * (MAX_TEXT_CHARS + 1), "The text has 10,001 characters; the limit is 10,000"),
        ("a\ud800b", "invalid character at position 2 (a lone UTF-16 surrogate, U+D800)"),
    ],
    ids=["none", "empty", "whitespace", "not_text", "too_long", "lone_surrogate"],
)
def test_check_text_rejects(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_text(text)


def test_check_token_count():
    check_token_count(0)
    check_token_count(MAX_TOKENS)
    with pytest.raises(InputError, match=re.escape("The text has 257 tokens; the limit is 256")):
        check_token_count(MAX_TOKENS + 1)
