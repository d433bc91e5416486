"""Three ways to turn scores into weights, and what goes wrong with each on extreme values."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import torch

from .limits import MAX_LAB_CHARS, MAX_LAB_VALUES, InputError, check_dtype, check_encodable

DType = Literal["float16", "float32", "float64"]

_TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


def exp_overflow_threshold(dtype: DType) -> float:
    """The largest x with exp(x) finite in ``dtype``: ln(max) ≈ 11.09, 88.72 or 709.78."""
    return math.log(torch.finfo(_TORCH_DTYPES[dtype]).max)


def sum_normalize(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``x / x.sum(dim)``: the book's first normalization. Not a distribution if x has negatives."""
    return x / x.sum(dim=dim, keepdim=True)


def softmax_naive(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(x) / exp(x).sum(dim)`` with no max subtraction.

    It overflows honestly: in float32 exp(400) is inf and inf / inf is NaN.
    """
    exps = torch.exp(x)
    return exps / exps.sum(dim=dim, keepdim=True)


def softmax_stable(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(x - max) / Σ exp(x - max)``: the same function, and finite wherever x is finite.

    Subtracting the max leaves the result unchanged (the factor exp(-max) cancels) but makes
    the largest exponent exp(0) = 1, so nothing overflows.
    """
    shifted = x - x.amax(dim=dim, keepdim=True)
    exps = torch.exp(shifted)
    return exps / exps.sum(dim=dim, keepdim=True)


@dataclass(frozen=True)
class NormalizationComparison:
    """The three normalizations of one vector, computed in ``dtype``, with notes on anything odd.

    values, sum_normalized, softmax_naive, softmax_stable: (N,) tensors in ``dtype``.
    notes: human-readable sentences that explain every non-finite or surprising result.
    """

    dtype: str
    values: torch.Tensor
    sum_normalized: torch.Tensor
    softmax_naive: torch.Tensor
    softmax_stable: torch.Tensor
    notes: list[str]

    def sums(self) -> dict[str, float]:
        """Each column's sum, as Python floats (NaN stays NaN)."""
        return {
            "values": float(self.values.double().sum()),
            "sum_normalized": float(self.sum_normalized.double().sum()),
            "softmax_naive": float(self.softmax_naive.double().sum()),
            "softmax_stable": float(self.softmax_stable.double().sum()),
        }


def parse_values(text: str) -> list[float]:
    """Parse the lab's box: numbers separated by commas, spaces, semicolons or newlines.

    Brackets and a ``tensor(...)`` wrapper are ignored, so a printed tensor pastes straight in.
    ``-inf`` is allowed (it is how chapter 3.5 masks a score); ``inf`` and ``nan`` are not.

    >>> parse_values("tensor([0.9544, 1.4950])")
    [0.9544, 1.495]
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The values must be text, not {type(text).__name__}.")
    if len(text) > MAX_LAB_CHARS:
        raise InputError(
            f"The values box has {len(text):,} characters; the limit is {MAX_LAB_CHARS:,}. Use at most {MAX_LAB_VALUES:,} values."
        )
    check_encodable(text, "values box")
    body = re.sub(r"^\s*(torch\.)?tensor\s*\(|\)\s*$", "", text.strip())
    cells = [cell for cell in re.split(r"[\s,;\[\]]+", body) if cell]
    if not cells:
        if text.strip():
            raise InputError("The values box has only separators. Type numbers, for example: 1, 2, 3, 400")
        raise InputError("The values box is empty. Type some numbers, for example: 1, 2, 3, 400")
    if len(cells) > MAX_LAB_VALUES:
        raise InputError(f"There are {len(cells):,} values; the limit is {MAX_LAB_VALUES:,}. Remove some.")
    try:
        values = np.array(cells, dtype=str).astype(np.float64)  # all at once; the loop below names a bad cell
    except ValueError:
        for position, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except ValueError:
                shown = cell if len(cell) <= 30 else cell[:30] + "…"
                raise InputError(
                    f"Value {position} is {shown!r}, which is not a number. Separate numbers with commas or spaces."
                ) from None
        raise
    return check_values(values)


def check_values(values: Sequence[float] | np.ndarray) -> list[float]:
    """Check a list of lab values: 1 to MAX_LAB_VALUES numbers, no NaN, no +inf (-inf is allowed)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise InputError("There are no values. Type some numbers, for example: 1, 2, 3, 400")
    if array.size > MAX_LAB_VALUES:
        raise InputError(f"There are {array.size:,} values; the limit is {MAX_LAB_VALUES:,}. Remove some.")
    bad = np.flatnonzero(np.isnan(array) | np.isposinf(array))
    if bad.size:
        position = int(bad[0]) + 1
        if math.isnan(array[bad[0]]):
            raise InputError(
                f"Value {position} is nan. NaN is not a score; type a number (very large ones are fine, that is the lesson)."
            )
        raise InputError(f"Value {position} is inf. Type a large finite number instead, such as 1e308, to watch exp overflow.")
    return array.tolist()


def compare_normalizations(values: Sequence[float] | torch.Tensor | str, dtype: DType | str = "float32") -> NormalizationComparison:
    """Sum normalization, naive softmax and stable softmax side by side, in ``dtype``.

    >>> result = compare_normalizations([1, 2, 3, 400])
    >>> result.softmax_naive.isnan().any().item(), result.softmax_stable.isfinite().all().item()
    (True, True)
    >>> result.notes[0]
    'exp(400) overflows float32 (largest finite input ≈ 88.72), so naive softmax gives NaN.'
    """
    dtype = check_dtype(dtype)
    if isinstance(values, str):
        numbers = parse_values(values)
    else:
        try:
            numbers = check_values(values.tolist() if isinstance(values, torch.Tensor) else list(values))
        except (TypeError, ValueError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError("The values must be numbers, for example: 1, 2, 3, 400") from None
    torch_dtype = _TORCH_DTYPES[dtype]
    x = torch.tensor(numbers, dtype=torch.float64).to(torch_dtype)
    result = NormalizationComparison(
        dtype=dtype,
        values=x,
        sum_normalized=sum_normalize(x),
        softmax_naive=softmax_naive(x),
        softmax_stable=softmax_stable(x),
        notes=[],
    )
    result.notes.extend(_notes(numbers, result))
    return result


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _notes(numbers: list[float], result: NormalizationComparison) -> list[str]:
    """One sentence for every non-finite or surprising result, each true of this result."""
    dtype = result.dtype
    x = result.values
    finfo = torch.finfo(x.dtype)
    limit = exp_overflow_threshold(dtype)  # type: ignore[arg-type]
    naive, stable, summed = result.softmax_naive, result.softmax_stable, result.sum_normalized
    notes: list[str] = []

    magnitudes = np.abs(np.asarray(numbers))
    unrepresentable = np.asarray(numbers)[np.isfinite(magnitudes) & (magnitudes > finfo.max)].tolist()
    if unrepresentable:
        notes.append(
            f"{_fmt(unrepresentable[0])} is beyond {dtype}'s largest finite value ({finfo.max:.6g}), so it becomes "
            f"{'-' if unrepresentable[0] < 0 else ''}inf before anything is computed."
        )

    finite = x[torch.isfinite(x)]
    if bool(torch.isposinf(x).any()):
        notes.append(
            f"An input is inf in {dtype}: naive softmax computes inf / inf and even stable softmax computes "
            "inf − inf, so both give NaN. Sum normalization divides by an infinite sum."
        )
        return notes
    if finite.numel() == 0:
        notes.append(
            "Every value is -inf, so every exponential is 0 and softmax divides 0 by 0: NaN (a fully masked row). "
            "Sum normalization computes -inf / -inf, also NaN."
        )
        return notes

    # From here on at least one value is finite and none is +inf, so stable softmax is finite.
    largest, smallest = float(finite.max()), float(finite.min())
    if not bool(torch.isfinite(naive).all()):
        if largest > limit:
            notes.append(
                f"exp({_fmt(largest)}) overflows {dtype} (largest finite input ≈ {limit:.2f}), so naive softmax gives NaN."
            )
        else:
            notes.append(
                f"exp({_fmt(largest)}) underflows to 0 in {dtype}, and so does every other exponential, so naive "
                "softmax divides 0 by 0 and gives NaN."
            )
        notes.append(
            f"Stable softmax subtracts the max ({_fmt(largest)}) first, so its largest exponential is exp(0) = 1 and "
            "nothing overflows or divides by 0."
        )
    else:
        naive_total = float(naive.double().sum())
        if abs(naive_total - 1) > 1e-2:
            notes.append(
                f"Each exp is finite in {dtype}, but their sum overflows, so naive softmax's weights sum to "
                f"{_fmt(naive_total)} instead of 1. Stable softmax is unaffected."
            )
        if smallest < -limit:
            notes.append(f"exp({_fmt(smallest)}) underflows to 0 in {dtype}: that weight is exactly 0, which is fine.")
    if bool(torch.isneginf(x).any()):
        notes.append("-inf gets weight exactly 0 from softmax (exp(-inf) = 0). Chapter 3.5 uses this to mask future tokens.")

    total = float(x.double().sum())
    if total == 0 and finite.numel() == x.numel():
        notes.append("The values sum to 0: sum normalization divides by zero, so it gives inf or NaN.")
    elif not bool(torch.isfinite(summed).all()):
        notes.append(f"Sum normalization is not finite: the values sum to {_fmt(total)} in {dtype}.")
    elif bool(((summed < 0) | (summed > 1)).any()):
        notes.append(
            "Negative weights: sum normalization is not a probability distribution (a weight is below 0 or above 1). "
            "Softmax weights are always between 0 and 1."
        )
    elif largest < 0 and len(numbers) > 1 and len(set(numbers)) > 1:
        notes.append(
            "All values are negative, so sum normalization flips their order: the largest value gets the smallest "
            "weight. Softmax keeps the order."
        )

    if len(numbers) == 1:
        notes.append("A single value always gets weight 1 from softmax: there is nothing else to attend to.")
    elif len(set(numbers)) == 1:
        notes.append(f"All {len(numbers)} values are equal, so softmax gives each the same weight 1/{len(numbers)}.")
    elif float(stable.max()) > 0.999:
        notes.append(
            "One value dominates: softmax puts almost all the weight on the largest input, because exp grows so fast."
        )
    return notes
