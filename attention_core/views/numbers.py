"""The one number formatter: 4 decimals, as the book prints, but never more digits than the dtype has.

float32 carries about 7 significant decimal digits, so 373123.3125 printed from float32 would claim
digits the computation never had; it prints as 373123. Values too small for 4 decimals, or too large
for the dtype's digits, use scientific notation (``2.6881e+43``, or ``2.6881 \\times 10^{43}`` in LaTeX).
"""

from __future__ import annotations

import math

# Significant decimal digits each dtype carries (float32's FLT_DIG is 6, float64's DBL_DIG is 15).
SIGNIFICANT = {"float16": 3, "float32": 6, "float64": 15}
DECIMALS = 4


def num(value: float, *, dtype: str = "float32", decimals: int = DECIMALS, latex: bool = False) -> str:
    """``value`` at ``decimals`` decimals, with at most the significant digits ``dtype`` carries.

    >>> num(0.95441), num(373123.3125), num(373123.5562, dtype="float64"), num(5.5e34), num(0.0)
    ('0.9544', '373123', '373123.5562', '5.5000e+34', '0.0000')
    >>> num(2.6881e43, latex=True), num(float("-inf"), latex=True)
    ('2.6881 \\\\times 10^{43}', '-\\\\infty')
    """
    value = float(value)
    if decimals == DECIMALS and dtype != "float16" and 5e-5 <= abs(value) < 99.9999:
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
    significant = SIGNIFICANT[dtype]
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


def significant_digits(text: str) -> int:
    """How many significant digits a number printed by ``num`` shows.

    >>> significant_digits("0.0123"), significant_digits("373123"), significant_digits("2.6881e+43")
    (3, 6, 5)
    """
    mantissa = text.replace(r" \times 10^", "e").split("e")[0].lstrip("-+")
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits) if digits else 1
