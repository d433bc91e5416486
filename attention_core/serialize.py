"""Tensors to JSON-ready lists, with each float32 in its shortest round-tripping decimal form."""

from __future__ import annotations

import numpy as np
import torch


# Below this many entries numpy's own repr is faster than the vectorized search.
_SMALL = 512


def shortest_floats(tensor: torch.Tensor) -> list:
    """Nested lists of Python floats whose decimal form is as short as float32 allows.

    ``tensor.tolist()`` on float32 gives float64 values such as 0.4300000071525879; here that
    entry is 0.43, which converts back to exactly the same float32 (float16 likewise). Non-finite
    entries become None (JSON null). Other dtypes become float64 values.

    >>> shortest_floats(torch.tensor([0.43, 1 / 3]))
    [0.43, 0.33333334]
    """
    if tensor.dtype == torch.float16:
        # numpy's float16 repr is the shortest form that reads back as the same float16.
        return _nonfinite_to_none(tensor.detach().cpu().numpy().astype(str).astype(np.float64))
    if tensor.dtype != torch.float32:
        return _nonfinite_to_none(tensor.detach().cpu().double().numpy())
    x32 = tensor.detach().cpu().numpy()
    if x32.size <= _SMALL:
        # numpy's float32 repr is the shortest round-tripping form; per element it wins on small arrays.
        return _nonfinite_to_none(x32.astype(str).astype(np.float64))
    x = x32.astype(np.float64)
    best = x.copy()
    finite = np.isfinite(x) & (x != 0)
    pending = finite.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.floor(np.log10(np.abs(np.where(finite, x, 1.0))))
        for digits in range(1, 10):  # 9 significant digits always round-trip a float32
            if not pending.any():
                break
            power = digits - 1 - exponent
            # n / 10**k is correctly rounded when both are exact, so its repr is the short decimal.
            scale = np.power(10.0, np.abs(power))
            candidate = np.where(power >= 0, np.round(x * scale) / scale, np.round(x / scale) * scale)
            ok = pending & (candidate.astype(np.float32) == x32)
            best[ok] = candidate[ok]
            pending &= ~ok
    # 10**k is exact in float64 only up to k = 22, so below about 1e-14 or above 1e22 the quotient can miss the
    # shortest decimal; numpy's float32 repr is shortest, so let it decide those entries (and any left pending).
    slow = pending | (finite & ((exponent < -14) | (exponent > 22)))
    if slow.any():
        best[slow] = x32[slow].astype(str).astype(np.float64)
    return _nonfinite_to_none(best)


def _nonfinite_to_none(array: np.ndarray) -> list:
    if np.isfinite(array).all():
        return array.tolist()
    objects = array.astype(object)
    objects[~np.isfinite(array)] = None
    return objects.tolist()


def attended_json(run) -> dict:
    """The /attend answer for an ``Attended`` run: tokens, ids and the four matrices as shortest floats."""
    attention = run.attention
    return {
        "tokens": run.tokens,
        "ids": run.ids,
        "inputs": shortest_floats(attention.inputs),
        "scores": shortest_floats(attention.scores),
        "weights": shortest_floats(attention.weights),
        "context": shortest_floats(attention.context),
    }


def comparison_json(result) -> dict:
    """The /normalize answer for a ``NormalizationComparison``; NaN and inf become None (JSON null)."""
    # One conversion for the four columns: the per-call overhead dominates at lab sizes.
    columns = shortest_floats(
        torch.stack([result.values, result.sum_normalized, result.softmax_naive, result.softmax_stable])
    )
    return {
        "values": columns[0],
        "sum_normalized": columns[1],
        "softmax_naive": columns[2],
        "softmax_stable": columns[3],
        "notes": list(result.notes),
    }
