"""The one number formatter, and the one digits rule every printed number follows.

1. A number carries only the digits its dtype and computation support. ``num`` prints 4 decimals, as the book
   does, but never more significant digits than the dtype carries: float32 carries about 7, so 373123.3125
   printed from float32 would claim digits the computation never had; it prints as 373123. A subnormal (a
   number below the dtype's smallest normal value) holds fewer digits still, and prints with only those.
   Values too small for 4 decimals, or too large for the dtype's digits, use scientific notation
   (``2.6881e+43``, or ``2.6881 \\times 10^{43}`` in LaTeX).
2. A written-out arithmetic step reproduces with a calculator from the numbers shown. ``division`` picks the
   digits of a numerator and a denominator so that dividing the shown numbers gives the shown result to its
   last digit; ``relation`` writes "=" only when a step's shown operands give its shown result, "≈" otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

# Significant decimal digits each dtype carries (float32's FLT_DIG is 6, float64's DBL_DIG is 15).
SIGNIFICANT = {"float16": 3, "float32": 6, "float64": 15}
DECIMALS = 4
# Below its smallest normal value a dtype's float is subnormal: a whole number of its smallest subnormal, so it
# holds fewer digits (float64's 1.3764e-320 is 2786 of 4.9e-324: 3 digits).
SMALLEST_NORMAL = {"float16": 2.0**-14, "float32": 2.0**-126, "float64": 2.0**-1022}
SMALLEST_SUBNORMAL = {"float16": 2.0**-24, "float32": 2.0**-149, "float64": 2.0**-1074}
# The most significant digits ``division`` gives an operand: 17 write any float64 exactly enough to read it back.
MAX_OPERAND_DIGITS = 17


def carried_digits(value: float, dtype: str = "float32") -> int:
    """The significant decimal digits a ``dtype`` value holds: the dtype's own, fewer for a subnormal.

    >>> carried_digits(0.5), carried_digits(1.3764e-320, "float64"), carried_digits(5e-324, "float64")
    (6, 3, 1)
    """
    significant = SIGNIFICANT[dtype]
    size = abs(float(value))
    if 0 < size < SMALLEST_NORMAL[dtype]:
        return max(1, min(significant, math.floor(math.log10(size / SMALLEST_SUBNORMAL[dtype]))))
    return significant


def num(
    value: float,
    *,
    dtype: str = "float32",
    decimals: int = DECIMALS,
    latex: bool = False,
    supported: int | None = None,
) -> str:
    """``value`` at ``decimals`` decimals, with at most the significant digits ``dtype`` carries, and at most
    ``supported`` when its computation supports fewer (``softmax_digits``).

    >>> num(0.95441), num(373123.3125), num(373123.5562, dtype="float64"), num(5.5e34), num(0.0)
    ('0.9544', '373123', '373123.5562', '5.5000e+34', '0.0000')
    >>> num(2.6881e43, latex=True), num(float("-inf"), latex=True)
    ('2.6881 \\\\times 10^{43}', '-\\\\infty')
    >>> num(1.3764e-320, dtype="float64")  # a subnormal holds 3 digits
    '1.38e-320'
    >>> num(6.645007e-11, supported=4), num(0.2046, supported=3)
    ('6.645e-11', '0.205')
    """
    value = float(value)
    if decimals == DECIMALS and dtype != "float16" and 5e-5 <= abs(value) < 99.9999 and supported is None:
        # The common case, and a fast one (tables call this for every cell): here 4 decimals need at most
        # 6 significant digits, which float32 and float64 both carry, and rounding cannot carry into a new digit.
        return f"{value:.4f}"
    if math.isnan(value):
        return r"\text{NaN}" if latex else "NaN"
    if math.isinf(value):
        sign = "-" if value < 0 else ""
        return sign + (r"\infty" if latex else "inf")
    if value == 0:
        return f"{0.0:.{decimals}f}"
    significant = carried_digits(value, dtype)
    if supported is not None:
        significant = max(1, min(significant, supported))
    exponent = math.floor(math.log10(abs(value)))
    if abs(value) >= 0.5 * 10.0**-decimals:
        for _ in range(2):  # a second pass when rounding carries into a new digit (0.99999 -> 1.0000)
            places = min(decimals, significant - 1 - exponent)
            if places < 0:
                break
            shown = f"{value:.{places}f}"
            if abs(float(shown)) < 10.0 ** (exponent + 1):
                return shown
            exponent += 1
    mantissa, _, power = f"{value:.{min(decimals, significant - 1)}e}".partition("e")
    if latex:
        return rf"{mantissa} \times 10^{{{int(power)}}}"
    return f"{mantissa}e{power}"


def softmax_digits(largest: float, count: int, dtype: str = "float32") -> int:
    """The significant digits a softmax weight computed in ``dtype`` supports, for a row of ``count`` scores whose
    largest magnitude (after dividing by τ) is ``largest``.

    Rounding ω/τ and then ω/τ − max each moves an exponent by up to |ω/τ| units of the dtype's last place, which
    moves the weight by that much relatively; exp, the row's sum and the division add a few units more. So a
    weight's relative error is at most ε (3·largest + 2·log2(count) + 6), with ε half the dtype's last-place unit,
    and it carries the digits whose half unit exceeds that: all 6 for the book, about 4 when scores reach 800.

    >>> softmax_digits(1.4950, 6), softmax_digits(800.0, 10), softmax_digits(14950.0, 6)
    (6, 4, 3)
    """
    epsilon = {"float16": 2.0**-11, "float32": 2.0**-24, "float64": 2.0**-53}[dtype]
    error = epsilon * (3 * abs(float(largest)) + 2 * math.log2(max(count, 1)) + 6)
    return max(1, min(SIGNIFICANT[dtype], math.floor(1 + math.log10(0.5 / error))))


def significant_digits(text: str) -> int:
    """How many significant digits a number printed by ``num`` shows.

    >>> significant_digits("0.0123"), significant_digits("373123"), significant_digits("2.6881e+43")
    (3, 6, 5)
    """
    mantissa = text.replace(r" \times 10^", "e").split("e")[0].lstrip("-+")
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits) if digits else 1


def significant(value: float, digits: int, *, latex: bool = False) -> str:
    """``value`` with ``digits`` significant digits: positional while that shows no invented digit, else scientific.

    >>> significant(751.18503, 6), significant(0.035172, 6), significant(4.6852e-5, 6), significant(3.2e20, 3)
    ('751.185', '0.0351720', '4.68520e-05', '3.20e+20')
    """
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return num(value, latex=latex) if value != 0 else "0"
    exponent = math.floor(math.log10(abs(value)))
    for _ in range(2):  # a second pass when rounding carries into a new digit (9.9999 -> 10.00)
        if not -4 <= exponent < digits:
            break
        shown = f"{value:.{digits - 1 - exponent}f}"
        if abs(float(shown)) < 10.0 ** (exponent + 1):
            return shown
        exponent += 1
    text = f"{value:.{digits - 1}e}"
    return as_latex(text) if latex else text


def as_latex(text: str) -> str:
    """A printed number for KaTeX: ``2.5e-05`` becomes ``2.5 \\times 10^{-5}``.

    >>> as_latex("2.5e-05"), as_latex("0.2046")
    ('2.5 \\\\times 10^{-5}', '0.2046')
    """
    mantissa, e, power = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(power)}}}" if e else text


def to_decimal(text: str) -> Decimal:
    """A number as ``num`` or ``significant`` prints it (LaTeX included), exactly as shown.

    >>> to_decimal("2.5 \\\\times 10^{-5}"), to_decimal("0.2046")
    (Decimal('0.000025'), Decimal('0.2046'))
    """
    plain = text.replace(r" \times 10^", "e").replace("{", "").replace("}", "")
    return Decimal(plain)


def agrees(exact: Decimal, shown: str) -> bool:
    """Whether ``exact`` rounds to ``shown`` at ``shown``'s last printed digit (half to even)."""
    target = to_decimal(shown)
    with localcontext() as context:
        context.prec = 60
        return exact.quantize(Decimal(1).scaleb(target.as_tuple().exponent), rounding=ROUND_HALF_EVEN) == target


def relation(exact: Decimal, shown: str) -> str:
    """``=`` when ``exact`` (a step computed from its shown operands) rounds to ``shown``, else ``≈``.

    >>> relation(Decimal("0.5500") * Decimal("0.4300"), "0.2365"), relation(Decimal("0.12345"), "0.1235")
    ('=', '≈')
    """
    return "=" if agrees(exact, shown) else "≈"


def exact_sum(texts: Iterable[str]) -> Decimal:
    """The exact sum of printed numbers."""
    with localcontext() as context:
        context.prec = 60
        return sum((to_decimal(text) for text in texts), Decimal(0))


def division(numerator: float, denominator: float, like: str) -> tuple[str, str, str]:
    """``numerator / denominator = result``, printed so that a calculator reproduces it from the shown numbers.

    The result is the exact quotient rounded to the last place of ``like`` (a number printed the way the result
    should be, such as the float32 matrix's entry), and written the same way; each operand gets the fewest
    significant digits (at least 6) at which dividing the shown operands gives that result to its last digit.

    >>> division(0.035172, 751.18503, "4.6822e-05")
    ('0.0351720', '751.185', '4.6822e-05')
    """
    place = Decimal(1).scaleb(to_decimal(like).as_tuple().exponent)
    with localcontext() as context:
        context.prec = 60
        exact = (Decimal(numerator) / Decimal(denominator)).quantize(place, rounding=ROUND_HALF_EVEN)
    result = _like(exact, like)
    for digits in range(6, MAX_OPERAND_DIGITS + 1):
        top, bottom = significant(numerator, digits), significant(denominator, digits)
        if agrees(quotient(top, bottom), result):
            break  # 17 digits write a float64 exactly, so the loop always ends here
    return top, bottom, result


def quotient(top: str, bottom: str) -> Decimal:
    """The exact quotient of two printed numbers, to 60 digits."""
    with localcontext() as context:
        context.prec = 60
        return to_decimal(top) / to_decimal(bottom)


def _like(value: Decimal, example: str) -> str:
    """``value`` (already rounded to ``example``'s last place) written the way ``example`` is."""
    if "e" not in example:
        return f"{value:f}"
    mantissa = example.partition("e")[0]
    decimals = len(mantissa.partition(".")[2])
    return f"{float(value):.{decimals}e}"


def percent(text: str) -> str:
    """A printed share as a percentage with the same significant digits (the decimal point moves by 2).

    >>> percent("0.2046"), percent("1.0000"), percent("4.6852e-05")
    ('20.46', '100.00', '0.0046852')
    """
    shifted = to_decimal(text).scaleb(2)
    return str(shifted).replace("E", "e")


def stored(value: float, dtype: str) -> str:
    """The shortest decimal that reads back as the same ``dtype`` value: every digit the stored value holds, and
    no more (float16's 1001 is exactly 1001, float32's 0.43 reads back from "0.43").

    >>> stored(1001.0, "float16"), stored(0.43, "float32"), stored(3e38, "float32")
    ('1001', '0.43', '3e+38')
    """
    import numpy as np

    value = float(value)
    if not math.isfinite(value):
        return num(value)
    typed = {"float16": np.float16, "float32": np.float32, "float64": np.float64}[dtype](value)
    if value == 0 or 1e-4 <= abs(value) < 1e16:
        return np.format_float_positional(typed, unique=True, trim="-")
    return np.format_float_scientific(typed, unique=True, trim="-")
