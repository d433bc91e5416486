"""The normalization lab in words: a note for every surprising result, the side-by-side table, the formulas.

Every note is decided by this result's own numbers, so each one is true of what the learner sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..limits import FLOAT_MAX, exp_overflow_threshold
from .numbers import num, stored
from .serialize import shortest_floats

if TYPE_CHECKING:  # the page shows formulas() before torch is imported
    from ..normalization import NormalizationComparison

COLUMNS = ("sum-normalized", "naive softmax", "stable softmax")
NOTHING_ODD = "Nothing surprising: all three give finite weights."


def notes(result: NormalizationComparison) -> list[str]:
    """One sentence for every non-finite or surprising result, each true of this result."""
    dtype = result.dtype
    x = result.values
    limit = exp_overflow_threshold(dtype)
    naive, stable, summed = result.softmax_naive, result.softmax_stable, result.sum_normalized
    found: list[str] = [*_conversion_notes(result)]

    def show(value: float) -> str:
        return f"{value:.6g}"

    finite = x[x.isfinite()]
    if bool(x.isposinf().any()):
        found.append(
            f"An input is inf in {dtype}: naive softmax computes inf / inf and even stable softmax computes "
            "inf − inf, so both give NaN. Sum normalization divides by an infinite sum."
        )
        return found
    if finite.numel() == 0:
        found.append(
            "Every value is -inf, so every exponential is 0 and softmax divides 0 by 0: NaN (a fully masked row). "
            "Sum normalization computes -inf / -inf, also NaN."
        )
        return found

    # From here on at least one value is finite and none is +inf, so stable softmax is finite.
    largest, smallest = float(finite.max()), float(finite.min())
    if not bool(naive.isfinite().all()):
        if largest > limit:
            found.append(
                f"exp({show(largest)}) overflows {dtype} (its exp is finite only up to ≈ {limit:.2f}), so naive "
                "softmax computes inf / inf and gives NaN."
            )
        else:
            found.append(
                f"exp({show(largest)}) underflows to 0 in {dtype}, and so does every other exponential, so naive "
                "softmax divides 0 by 0 and gives NaN."
            )
        found.append(
            f"Stable softmax subtracts the max ({show(largest)}) first, so its largest exponential is exp(0) = 1 and "
            "nothing overflows or divides by 0."
        )
    else:
        naive_total = float(naive.double().sum())
        if abs(naive_total - 1) > 1e-2:
            found.append(
                f"Each exp is finite in {dtype}, but their sum overflows, so naive softmax's weights sum to "
                f"{show(naive_total)} instead of 1. Stable softmax is unaffected."
            )
        if smallest < -limit:
            found.append(
                f"exp({show(smallest)}) underflows to 0 in {dtype}: that weight is exactly 0, which is harmless "
                "because other exponentials are not 0."
            )
    if bool(x.isneginf().any()):
        found.append(
            "-inf gets weight exactly 0 from softmax (exp(-inf) = 0). Chapter 3.5 uses this to mask future tokens."
        )

    total = float(x.double().sum())
    if total == 0 and finite.numel() == x.numel():
        found.append("The values sum to 0: sum normalization divides by zero, so it gives inf or NaN.")
    elif not bool(summed.isfinite().all()):
        found.append(f"Sum normalization is not finite: the values sum to {show(total)} in {dtype}.")
    elif bool(((summed < 0) | (summed > 1)).any()):
        found.append(
            "The values have mixed signs, so sum normalization gives weights below 0 or above 1: they still sum to 1 "
            "but are not a probability distribution. Softmax weights are always between 0 and 1."
        )
    elif largest < 0 and len(set(result.typed)) > 1:
        found.append(
            "All values are negative, so sum normalization's weights are positive but in reverse order: the largest "
            "value gets the smallest weight. Softmax keeps the order."
        )

    count = len(result.typed)
    if count == 1:
        found.append("A single value always gets weight 1 from softmax: there is nothing else to attend to.")
    elif len(set(result.typed)) == 1:
        found.append(f"All {count} values are equal, so softmax gives each the same weight 1/{count}.")
    elif float(stable.max()) > 0.999:
        found.append(
            "One value dominates: softmax puts almost all the weight on the largest input, because exp grows so fast."
        )
    return found


def _conversion_notes(result: NormalizationComparison) -> list[str]:
    """What happened to typed values beyond the dtype's largest finite value: rounded to it, or inf."""
    largest = FLOAT_MAX[result.dtype]
    found = []
    for typed, kept in zip(result.typed, result.values.tolist()):
        if abs(typed) <= largest or abs(typed) == float("inf"):
            continue
        if abs(kept) == float("inf"):
            found.append(
                f"{typed:.6g} is beyond {result.dtype}'s range, so it becomes "
                f"{'-' if typed < 0 else ''}inf before anything is computed."
            )
        else:
            found.append(
                f"{typed:.6g} is just above {result.dtype}'s largest finite value, {largest:.6g}, and rounds down "
                "to it (values further out become inf)."
            )
        break
    return found


def lab_table(result: NormalizationComparison) -> dict:
    """The side-by-side table, with the column sums as the last row.

    Each value is written as the shortest decimal that reads back as the stored ``dtype`` value, so values the
    dtype tells apart print apart (float16 holds 1000, 1001 and 1002 exactly); the computed columns carry
    ``dtype``'s significant digits.
    """
    dtype = result.dtype
    columns = [result.sum_normalized, result.softmax_naive, result.softmax_stable]
    rows = [
        [stored(value, dtype), *(num(number, dtype=dtype) for number in computed)]
        for value, *computed in zip(result.values.tolist(), *(column.tolist() for column in columns))
    ]
    sums = result.sums()
    rows.append(
        ["sum: " + num(sums["values"], dtype=dtype)]
        + [num(sums[key], dtype=dtype) for key in ("sum_normalized", "softmax_naive", "softmax_stable")]
    )
    return {"headers": ["value", *COLUMNS], "data": rows}


def notes_markdown(result: NormalizationComparison) -> str:
    listed = "\n".join(f"- {note}" for note in notes(result)) or f"- {NOTHING_ODD}"
    return f"**Notes ({result.dtype})**\n\n{listed}"


def comparison_json(result: NormalizationComparison) -> dict:
    """The /normalize answer; NaN and inf become None (JSON null), and the notes explain each one."""
    import torch

    # One conversion for the four columns: the per-call overhead dominates at lab sizes.
    columns = shortest_floats(
        torch.stack([result.values, result.sum_normalized, result.softmax_naive, result.softmax_stable])
    )
    return {
        "values": columns[0],
        "sum_normalized": columns[1],
        "softmax_naive": columns[2],
        "softmax_stable": columns[3],
        "notes": notes(result),
    }


def formulas() -> str:
    """The three normalizations as formulas, with what each does, true for every input."""
    limits = {dtype: exp_overflow_threshold(dtype) for dtype in FLOAT_MAX}
    return rf"""
**Why normalize at all?** The lecture gives two reasons: weights that sum to 1 are easy to read
("how much attention goes where"), and keeping them between 0 and 1 keeps training stable. Weights that
sum to 1 also make each context vector a weighted *average* of the inputs.

**Sum normalization** divides by the total:
$$\alpha_i = \frac{{\omega_i}}{{\sum_{{j=1}}^{{n}} \omega_j}}$$
The weights sum to 1, but it fails when the scores sum to 0; with scores of mixed signs some weights fall below 0
or above 1; and when every score is negative, the weights are positive but in reverse order.

**Naive softmax** exponentiates first, so no weight is negative (a very negative score's exponential underflows
to exactly 0) and the weights sum to 1:
$$\alpha_i = \frac{{\exp(\omega_i)}}{{\sum_{{j=1}}^{{n}} \exp(\omega_j)}}$$
But \(\exp\) overflows: the largest finite input is ≈ {limits["float16"]:.2f} in float16,
{limits["float32"]:.2f} in float32 and {limits["float64"]:.2f} in float64. Past it, \(\exp(\omega_i)\) is inf and
inf / inf is NaN. Very negative scores underflow to 0, which is harmless unless *every* exponential underflows:
then the sum is 0 and 0 / 0 is NaN.

**Stable softmax** subtracts the largest score \(m = \max_j \omega_j\) first:
$$\alpha_i = \frac{{\exp(\omega_i - m)}}{{\sum_{{j=1}}^{{n}} \exp(\omega_j - m)}}$$
This is the same function, because \(e^{{-m}}\) multiplies the top and the bottom and cancels. Now the largest
exponential is \(\exp(0) = 1\), so nothing overflows, and the sum is at least 1, so nothing divides by 0.
`torch.softmax` does exactly this.

**Why softmax?** It keeps every weight at 0 or above (above 0 unless its exponential underflows) and never
reverses the order of the scores. It turns differences into
ratios: \(\alpha_i / \alpha_j = \exp(\omega_i - \omega_j)\), so a score larger by 1 always gets e ≈ 2.72 times
the weight, whatever the scores' size. Whether that sharpens or flattens the weights compared with sum
normalization depends on the scale of the scores.
"""
