"""Float32 tensors to short JSON numbers that convert back to the same float32."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from golden import INPUTS, WORDS

from attention_core import attend
from attention_core.views.serialize import attended_json, shortest_floats


def _shortest_decimal(value: np.float32) -> float:
    """numpy's repr of a float32 is the shortest decimal that round-trips (Dragon4)."""
    return float(str(value))


def _random(shape: tuple[int, ...], magnitude: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator, dtype=torch.float64) * magnitude).float()


MAGNITUDES = [1e-30, 1e-20, 1e-10, 1e-3, 1.0, 1e3, 1e10, 1e20, 1e30]
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=["scalar", "1", "7", "3x4", "2x3x5"])
@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=[f"{m:g}" for m in MAGNITUDES])
def test_round_trips_to_the_same_float32(magnitude, shape):
    x = _random(shape, magnitude, seed=len(shape))
    out = shortest_floats(x)
    back = torch.tensor(json.loads(json.dumps(out)), dtype=torch.float32)
    assert back.shape == x.shape
    assert torch.equal(back, x)


@pytest.mark.parametrize(
    "magnitude",
    [1e-44, 1e-40, *MAGNITUDES, 3e38],
    ids=["subnormal_1e-44", "subnormal_1e-40", *[f"{m:g}" for m in MAGNITUDES], "near_max"],
)
def test_every_entry_is_the_shortest_decimal(magnitude):
    x = _random((400,), magnitude, seed=1)
    x = x[torch.isfinite(x)]
    out = shortest_floats(x)
    expected = [_shortest_decimal(v) for v in x.numpy()]
    assert out == expected


def test_book_inputs_come_back_as_typed():
    assert shortest_floats(torch.tensor(INPUTS)) == INPUTS
    assert torch.tensor(INPUTS).tolist() != INPUTS  # what the helper is for


def test_zeros_keep_their_sign():
    out = shortest_floats(torch.tensor([0.0, -0.0]))
    assert out == [0.0, 0.0]
    assert math.copysign(1.0, out[1]) == -1.0


def test_non_finite_become_none():
    x = torch.tensor([[1.5, float("nan")], [float("inf"), -float("inf")]])
    out = shortest_floats(x)
    assert out == [[1.5, None], [None, None]]
    assert json.dumps(out) == "[[1.5, null], [null, null]]"


def test_float64_uses_its_own_repr_and_float16_its_shortest():
    x64 = torch.tensor([0.1, 1 / 3, float("nan")], dtype=torch.float64)
    assert shortest_floats(x64) == [0.1, 1 / 3, None]
    half = torch.tensor([0.1, 1 / 3, 65504.0, float("inf")], dtype=torch.float16)
    result = shortest_floats(half)
    assert result == [0.1, 0.3333, 65500.0, None]  # numpy's float16 reprs: "0.1", "0.3333", "6.55e+04"
    assert [np.float16(v) for v in result[:3]] == [np.float16(0.1), np.float16(1 / 3), np.float16(65504.0)]


def test_empty_tensor():
    assert shortest_floats(torch.zeros(0)) == []
    assert shortest_floats(torch.zeros(2, 0)) == [[], []]


def test_attended_json_of_the_books_table():
    table = "\n".join(" ".join([word, *map(str, row)]) for word, row in zip(WORDS, INPUTS))
    run = attend("", table=table)
    answer = attended_json(run)
    assert list(answer) == ["tokens", "ids", "inputs", "scores", "weights", "context"]
    assert (answer["tokens"], answer["ids"], answer["inputs"]) == (WORDS, None, INPUTS)
    for name in ("scores", "weights", "context"):
        assert torch.equal(torch.tensor(answer[name], dtype=torch.float32), getattr(run.attention, name)), name
    json.dumps(answer, allow_nan=False)  # plain JSON: no NaN or inf
