"""The limits every input is checked against, the one rule for reading a number, and the one error type.

The UI, the API and the README all quote these numbers, so they live here once. Nothing here imports torch.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from typing import Literal

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
# Training W_query and W_key on one (query, key) pair (training.py): Adam steps, the projections' width d_k, and
# Adam's learning rate. 500 steps at 256 tokens and d = d_k = 768 take well under a second.
MIN_STEPS = 1
MAX_STEPS = 500
MIN_KEY_DIM = 1
MAX_KEY_DIM = 768
MIN_LEARNING_RATE = 1e-4
MAX_LEARNING_RATE = 1.0
# A number typed into a box is at most this long; longer text is refused before it is read.
MAX_NUMBER_CHARS = 40
# User text quoted in a message is cut to this many characters.
EXCERPT_CHARS = 30

DTYPES = ("float16", "float32", "float64")
# The largest finite value of each dtype, as torch.finfo reports it (tests check that they agree).
FLOAT_MAX = {"float16": 65504.0, "float32": 3.4028234663852886e38, "float64": sys.float_info.max}


# What an InputError is about, for callers that react to one kind (never by matching the message's words):
#   "invalid"          an input we cannot use (the default);
#   "rows_vs_tokens"   a table whose row count is not the text's token count.
ErrorKind = Literal["invalid", "rows_vs_tokens"]


class InputError(ValueError):
    """A user input we cannot use. The message says what was wrong and what is allowed; ``kind`` says which
    kind of problem it is.

    >>> InputError("The table has 2 rows but the text has 3 tokens.", kind="rows_vs_tokens").kind
    'rows_vs_tokens'
    """

    def __init__(self, message: str, *, kind: ErrorKind = "invalid") -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


def exp_overflow_threshold(dtype: str) -> float:
    """The largest x with exp(x) finite in ``dtype``: ln(max), ≈ 11.09, 88.72 or 709.78.

    >>> round(exp_overflow_threshold("float32"), 2)
    88.72
    """
    return math.log(FLOAT_MAX[check_dtype(dtype)])


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with "…" when cut, for quoting in a message.

    >>> excerpt("x" * 50, 5)
    'xxxxx…'
    """
    return text if len(text) <= limit else text[:limit] + "…"


def quoted(value: object) -> str:
    """A user value as it appears in a message: a short excerpt in quotes (strings) or its short repr."""
    if isinstance(value, str):
        return repr(excerpt(value))
    return excerpt(repr(value))


# Plain ASCII decimals only: "3_0" and "٣" are numbers to Python's float() but not to a reader of a table.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_SPECIAL = {
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "nan": math.nan,
    "+nan": math.nan,
    "-nan": math.nan,
}


def read_number(text: str) -> float | None:
    """The one rule for a number typed as text, used by every box and table: ASCII decimals such as
    ``-1.5e3``, or inf / -inf / nan in any case. Returns None for anything else.

    >>> read_number(" 0.43 "), read_number("1e2"), read_number("3_0"), read_number("٣")
    (0.43, 100.0, None, None)
    """
    cell = text.strip()
    if len(cell) > MAX_NUMBER_CHARS:
        return None
    if _NUMBER.fullmatch(cell):
        return float(cell)
    return _SPECIAL.get(cell.lower())


def _integer(value: object, name: str) -> int:
    """Accept ints and integral floats or strings ("3", 3.0, "1e2"); refuse bools, fractions and words."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"The {name} is empty. Type a whole number.")
    if isinstance(value, bool):
        raise InputError(f"The {name} must be a whole number, not {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str):
        number = read_number(value)
        if number is None:
            raise InputError(f"The {name} must be a whole number, not {quoted(value)}.")
        value = number
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise InputError(f"The {name} must be a whole number, not {excerpt(repr(value))}.")
    raise InputError(f"The {name} must be a whole number, not {type(value).__name__}.")


def _shown_int(value: int) -> str:
    """``value`` for a message: in full when short, else its sign and length (a 4,000-digit seed is not echoed)."""
    text = str(value)
    if len(text) <= 12:
        return text
    return f"a {len(text.lstrip('-'))}-digit {'negative ' if value < 0 else ''}number"


def check_index(value: object, name: str, count: int) -> int:
    """A 0-based token index in [0, count), given as an int or a whole-number string, or raise InputError.

    >>> check_index("1", "query", 6)
    1
    """
    index = _integer(value, name)
    if not 0 <= index < count:
        raise InputError(
            f"The {name} index is {_shown_int(index)}; it must be between 0 and {count - 1} "
            f"(tokens 1 to {count}, counted from 0)."
        )
    return index


def check_position(value: object, name: str, count: int) -> int:
    """A token counted from 1, as the page counts them, in [1, count], given as an int or a whole-number string; returns
    it 0-based, or raises InputError naming ``name``.

    >>> check_position("2", "key", 6)
    1
    """
    position = _integer(value, name)
    if not 1 <= position <= count:
        raise InputError(
            f"The {name} is token {_shown_int(position)}; the text has {count} token{'s' if count != 1 else ''}, "
            f"so the {name} must be between 1 and {count} (counted from 1)."
        )
    return position - 1


def check_dim(dim: object) -> int:
    """Return ``dim`` as an int in [MIN_DIM, MAX_DIM], or raise InputError.

    >>> check_dim(3.0)
    3
    """
    value = _integer(dim, "embedding dimension")
    if not MIN_DIM <= value <= MAX_DIM:
        raise InputError(
            f"The embedding dimension is {_shown_int(value)}; it must be between {MIN_DIM} and "
            f"{MAX_DIM} (GPT-2 small uses {MAX_DIM})."
        )
    return value


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int in [0, 2**32 - 1], or raise InputError."""
    value = _integer(seed, "seed")
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"The seed is {_shown_int(value)}; it must be between 0 and {MAX_SEED:,} (2^32 - 1).")
    return value


def check_dtype(dtype: object) -> str:
    """Return ``dtype`` if it is one of DTYPES, or raise InputError."""
    if not isinstance(dtype, str) or dtype.strip() not in DTYPES:
        raise InputError(f"The dtype is {quoted(dtype)}; choose one of {', '.join(DTYPES)}.")
    return dtype.strip()


def check_text(text: object) -> str:
    """Check a sentence before tokenizing it: a non-empty string within MAX_TEXT_CHARS.

    Only the empty string yields no token: a single space is GPT-2 token 220, as in the book's exercise.
    Control characters, zero-width characters and right-to-left text are fine: they tokenize like any
    other text, and the token view shows them visibly.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The text must be a string, not {type(text).__name__}.")
    if not text:
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
    """Raise InputError if a tokenized text is too long to show as a T x T matrix."""
    if count > MAX_TOKENS:
        raise InputError(
            f"The text has {count:,} tokens; the limit is {MAX_TOKENS}. Shorten it or remove some sentences."
        )


TEMPERATURE_RANGE = (
    f"a number between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g} "
    "(1 is the book's softmax; √d is what scaled dot-product attention uses)"
)


def check_temperature(value: object) -> float:
    """Return the softmax temperature τ as a float in [MIN_TEMPERATURE, MAX_TEMPERATURE], or raise InputError.

    Accepts ints, floats and numeric strings; refuses bools, NaN, infinities, zero, negatives and words.

    >>> check_temperature("2"), check_temperature(0.5)
    (2.0, 0.5)
    """
    allowed = TEMPERATURE_RANGE
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"The temperature is empty. Type {allowed}.")
    if isinstance(value, bool):
        raise InputError(f"The temperature must be {allowed}, not {value!r}.")
    if isinstance(value, numbers.Real):
        tau = float(value)
    elif isinstance(value, str):
        number = read_number(value)
        if number is None:
            raise InputError(f"The temperature must be {allowed}, not {quoted(value)}.")
        tau = number
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
        raise InputError(
            f"The temperature is {tau}; it must be a finite number greater than 0 (1 is the book's softmax)."
        )
    return tau


def check_steps(value: object) -> int:
    """Return the number of training steps as an int in [MIN_STEPS, MAX_STEPS], or raise InputError.

    >>> check_steps("100")
    100
    """
    steps = _integer(value, "number of training steps")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise InputError(
            f"The number of training steps is {_shown_int(steps)}; it must be between {MIN_STEPS} and {MAX_STEPS}."
        )
    return steps


def check_key_dim(value: object) -> int:
    """Return d_k, the width of the query and key projections, as an int in [MIN_KEY_DIM, MAX_KEY_DIM], or raise
    InputError.

    >>> check_key_dim(3.0)
    3
    """
    key_dim = _integer(value, "projection width d_k")
    if not MIN_KEY_DIM <= key_dim <= MAX_KEY_DIM:
        raise InputError(
            f"The projection width d_k is {_shown_int(key_dim)}; it must be between {MIN_KEY_DIM} and {MAX_KEY_DIM} "
            "(W_query and W_key are d × d_k)."
        )
    return key_dim


def check_learning_rate(value: object) -> float:
    """Return Adam's learning rate as a float in [MIN_LEARNING_RATE, MAX_LEARNING_RATE], or raise InputError.

    >>> check_learning_rate("0.1")
    0.1
    """
    allowed = f"a number between {MIN_LEARNING_RATE:g} and {MAX_LEARNING_RATE:g} (0.1 is the default)"
    if isinstance(value, bool) or value is None:
        raise InputError(f"The learning rate must be {allowed}, not {value!r}.")
    if isinstance(value, str):
        number = read_number(value)
        if number is None:
            raise InputError(f"The learning rate must be {allowed}, not {quoted(value)}.")
        value = number
    if not isinstance(value, numbers.Real):
        raise InputError(f"The learning rate must be {allowed}, not {type(value).__name__}.")
    rate = float(value)
    if not (math.isfinite(rate) and MIN_LEARNING_RATE <= rate <= MAX_LEARNING_RATE):
        raise InputError(f"The learning rate is {rate:g}; it must be {allowed}.")
    return rate
