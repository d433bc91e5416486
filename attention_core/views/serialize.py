"""Tensors to JSON-ready lists, each float in its shortest decimal form that reads back as the same float.

``tensor.tolist()`` on float32 gives float64 values such as 0.4300000071525879; here that entry is 0.43,
which converts back to exactly the same float32. orjson (which Gradio ships) writes float32 this way,
with the Ryu algorithm; numpy's repr does the same for float16. Non-finite entries become None (JSON null).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import orjson

if TYPE_CHECKING:  # annotations only: the app imports this before torch
    import torch


def shortest_floats(tensor: torch.Tensor) -> list:
    """Nested lists of Python floats, each the shortest decimal that round-trips to the tensor's float.

    >>> import torch
    >>> shortest_floats(torch.tensor([0.43, 1 / 3, float("nan")]))
    [0.43, 0.33333334, None]
    """
    array = tensor.detach().cpu().numpy()
    if array.dtype == np.float16:
        return _nonfinite_to_none(array.astype(str).astype(np.float64))
    if array.dtype != np.float32:
        return _nonfinite_to_none(array.astype(np.float64))
    if array.ndim == 0:  # np.ascontiguousarray would make it 1-d: a number, not [number]
        return shortest_floats(tensor.reshape(1))[0]
    return orjson.loads(orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY))


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
