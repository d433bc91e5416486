"""The limits every input is checked against, and the one error type the checks raise.

The UI, the API and the README all quote these numbers, so they live here once.
"""

from __future__ import annotations

import math
import numbers

MAX_TEXT_CHARS = 10_000
MAX_TOKENS = 256
MIN_DIM = 1
MAX_DIM = 768
MAX_SEED = 2**32 - 1
MAX_TABLE_ROWS = 256
MAX_TABLE_COLS = 768
MAX_TABLE_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 1_000_000
MAX_LAB_VALUES = 1_000
MAX_LAB_CHARS = 100_000
# The softmax temperature τ in softmax(ω / τ): 1 is the book's weight-free case, √d the scaled dot product's.
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 50.0

DTYPES = ("float16", "float32", "float64")


class InputError(ValueError):
    """A user input we cannot use. The message says what was wrong and what is allowed."""


def _integer(value: object, name: str) -> int:
    """Accept ints and integral floats or strings ("3", 3.0); refuse bools, fractions and words."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"The {name} is empty. Type a whole number.")
    if isinstance(value, bool):
        raise InputError(f"The {name} must be a whole number, not {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise InputError(f"The {name} must be a whole number, not {value!r}.")
    if isinstance(value, str):
        stripped = value.strip()
        try:
            return int(stripped)
        except ValueError:
            pass
        try:
            as_float = float(stripped)
        except ValueError:
            raise InputError(f"The {name} must be a whole number, not {value!r}.") from None
        return _integer(as_float, name)
    raise InputError(f"The {name} must be a whole number, not {type(value).__name__}.")


def check_dim(dim: object) -> int:
    """Return ``dim`` as an int in [MIN_DIM, MAX_DIM], or raise InputError.

    >>> check_dim(3.0)
    3
    """
    value = _integer(dim, "embedding dimension")
    if not MIN_DIM <= value <= MAX_DIM:
        raise InputError(
            f"The embedding dimension is {value}; it must be between {MIN_DIM} and {MAX_DIM} "
            f"(GPT-2 small uses {MAX_DIM})."
        )
    return value


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int in [0, 2**32 - 1], or raise InputError."""
    value = _integer(seed, "seed")
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"The seed is {value}; it must be between 0 and {MAX_SEED:,} (2^32 - 1).")
    return value


def check_dtype(dtype: object) -> str:
    """Return ``dtype`` if it is one of DTYPES, or raise InputError."""
    if not isinstance(dtype, str) or dtype.strip() not in DTYPES:
        raise InputError(f"The dtype is {dtype!r}; choose one of {', '.join(DTYPES)}.")
    return dtype.strip()


def check_text(text: object) -> str:
    """Check a sentence before tokenizing it: a non-blank string within MAX_TEXT_CHARS.

    Control characters, zero-width characters and right-to-left text are fine: they
    tokenize like any other text, and the token view shows them visibly.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The text must be a string, not {type(text).__name__}.")
    if not text.strip():
        raise InputError("The text is empty. Type a sentence, for example: Your journey starts with one step")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. "
            "Shorten it or remove some sentences."
        )
    check_encodable(text, "text")
    return text


def check_encodable(text: str, what: str) -> None:
    """Refuse lone UTF-16 surrogates, which a JSON client can send but UTF-8 cannot hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        char = text[error.start]
        raise InputError(
            f"The {what} has an invalid character at position {error.start + 1} "
            f"(a lone UTF-16 surrogate, U+{ord(char):04X}). Remove it or send the {what} as valid UTF-8."
        ) from None


def check_token_count(count: int) -> None:
    """Raise InputError if a tokenized text is too long to show as a T x T heatmap."""
    if count > MAX_TOKENS:
        raise InputError(
            f"The text has {count:,} tokens; the limit is {MAX_TOKENS}. Shorten it or remove some sentences."
        )


def check_temperature(value: object) -> float:
    """Return the softmax temperature τ as a float in [MIN_TEMPERATURE, MAX_TEMPERATURE], or raise InputError.

    Accepts ints, floats and numeric strings; refuses bools, NaN, infinities, zero, negatives and words.

    >>> check_temperature("2"), check_temperature(0.5)
    (2.0, 0.5)
    """
    allowed = (
        f"a number between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g} "
        "(1 is the book's softmax; √d is what scaled dot-product attention uses)"
    )
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"The temperature is empty. Type {allowed}.")
    if isinstance(value, bool):
        raise InputError(f"The temperature must be {allowed}, not {value!r}.")
    if isinstance(value, numbers.Real):
        tau = float(value)
    elif isinstance(value, str):
        try:
            tau = float(value.strip())
        except ValueError:
            raise InputError(f"The temperature must be {allowed}, not {value!r}.") from None
    else:
        raise InputError(f"The temperature must be {allowed}, not {type(value).__name__}.")
    if math.isnan(tau):
        raise InputError(f"The temperature is NaN (not a number); it must be {allowed}.")
    if math.isinf(tau):
        raise InputError(f"The temperature is {tau}; it must be {allowed}.")
    if tau <= 0:
        raise InputError(
            f"The temperature is {tau:g}; it must be greater than 0, because the scores are divided by it: {allowed}."
        )
    if not MIN_TEMPERATURE <= tau <= MAX_TEMPERATURE:
        raise InputError(f"The temperature is {tau:g}; it must be {allowed}.")
    return tau


def positive_temperature(value: object) -> float:
    """A softmax temperature as a positive finite float (any size; ``check_temperature`` also bounds it for the UI)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"The temperature must be a positive number such as 1.0 or 2.0, not {type(value).__name__}.")
    tau = float(value)
    if not math.isfinite(tau) or tau <= 0.0:
        raise InputError(f"The temperature is {tau}; it must be a finite number greater than 0 (1 is the book's softmax).")
    return tau
