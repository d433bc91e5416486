"""Three ways to turn scores into weights, and what goes wrong with each on extreme values."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .limits import (
    MAX_LAB_CHARS,
    MAX_LAB_VALUES,
    InputError,
    check_dtype,
    check_encodable,
    quoted,
    read_number,
)

DType = Literal["float16", "float32", "float64"]

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


def sum_normalize(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``x / x.sum(dim)``: the book's first normalization. Its weights sum to 1, but with scores of mixed
    signs some fall below 0 or above 1, and a zero sum divides by zero."""
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
    """The three normalizations of one vector, computed in ``dtype`` (``attention_core.views.lab`` explains them).

    typed: the numbers as typed, in float64, before conversion to ``dtype``.
    values, sum_normalized, softmax_naive, softmax_stable: (N,) tensors in ``dtype``.
    """

    dtype: str
    typed: list[float]
    values: torch.Tensor
    sum_normalized: torch.Tensor
    softmax_naive: torch.Tensor
    softmax_stable: torch.Tensor

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
            f"The values box has {len(text):,} characters; the limit is {MAX_LAB_CHARS:,}. "
            f"Use at most {MAX_LAB_VALUES:,} values."
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
    values = []
    for position, cell in enumerate(cells, start=1):
        number = read_number(cell)
        if number is None:
            raise InputError(
                f"Value {position} is {quoted(cell)}, which is not a number. Separate numbers with commas or spaces."
            )
        values.append(number)
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
                f"Value {position} is nan. NaN is not a score; "
                "type a number (very large ones are fine, that is the lesson)."
            )
        raise InputError(
            f"Value {position} is inf. Type a large finite number instead, such as 1e308, to watch exp overflow."
        )
    return array.tolist()


def compare_normalizations(
    values: Sequence[float] | torch.Tensor | str, dtype: DType | str = "float32"
) -> NormalizationComparison:
    """Sum normalization, naive softmax and stable softmax side by side, in ``dtype``.

    >>> result = compare_normalizations([1, 2, 3, 400])
    >>> result.softmax_naive.isnan().any().item(), result.softmax_stable.isfinite().all().item()
    (True, True)
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
    x = torch.tensor(numbers, dtype=torch.float64).to(TORCH_DTYPES[dtype])
    return NormalizationComparison(
        dtype=dtype,
        typed=numbers,
        values=x,
        sum_normalized=sum_normalize(x),
        softmax_naive=softmax_naive(x),
        softmax_stable=softmax_stable(x),
    )
