"""Independent computations the tests compare the library against: the book's recipes, written out plainly.

Nothing here calls ``attention_core``'s math: these are the notebook's own lines (``torch.nn.Embedding``,
``inputs @ inputs.T``, ``torch.softmax``) or Python floats.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import re
import sys
import types
from collections.abc import Sequence

import pytest
import torch

CAT_SENTENCE = "The cat sat on the mat because it is warm"

# A number as the views print it: 0.1385, -2.5971, 373123, 2.6881e+43, or 2.6881 \times 10^{43} in LaTeX.
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]\d+| \\times 10\^\{-?\d+\})?")


def book_dot_line(query: int, key: int) -> str:
    """The walk-through's and the trace's line for ω_qk of the book's inputs, e.g. ``0.5500·0.4300 + … = 0.9544``."""
    from golden import INPUTS, SCORES

    return " + ".join(f"{a:.4f}·{b:.4f}" for a, b in zip(INPUTS[query], INPUTS[key])) + f" = {SCORES[query][key]:.4f}"


def recipe_inputs(ids: Sequence[int], *, dim: int, seed: int) -> torch.Tensor:
    """``torch.manual_seed(seed); torch.nn.Embedding(50257, dim).weight[ids]``, leaving the global RNG as it was."""
    return _recipe_table(dim, seed)[list(ids)]  # (T, d), a copy


@functools.lru_cache(maxsize=2)  # a d = 768 table takes a second to build; the tests use few
def _recipe_table(dim: int, seed: int) -> torch.Tensor:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight.detach()  # (V, d)


def book_attention(inputs: torch.Tensor, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The book's three matrix lines (with an optional temperature): scores, weights, context."""
    scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)
    weights = torch.softmax(scores / tau, dim=-1)  # (T, T)
    return scores, weights, weights @ inputs  # (T, T) @ (T, d) -> (T, d)


def fsum_scores(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """ω_ij = Σ_k x_ik x_jk, exactly rounded in Python floats."""
    return [[math.fsum(a * b for a, b in zip(x_i, x_j)) for x_j in rows] for x_i in rows]


def softmax_floats(values: Sequence[float], tau: float = 1.0) -> list[float]:
    """Softmax in Python floats, shifted by the max, so it is exact enough for any finite input."""
    scaled = [v / tau for v in values]
    top = max(scaled)
    exps = [math.exp(v - top) for v in scaled]
    total = math.fsum(exps)
    return [e / total for e in exps]


def self_wins(scores: torch.Tensor) -> tuple[int, int]:
    """(rows whose own score is at least every other score in the row, of those rows how many tie), by a loop."""
    rows = scores.tolist()
    wins = ties = 0
    for i, row in enumerate(rows):
        others = [value for j, value in enumerate(row) if j != i]
        if not others or row[i] >= max(others):
            wins += 1
            ties += bool(others) and row[i] == max(others)
    return wins, ties


def one_hot_rows(scores: torch.Tensor, tau: float, threshold: float = 0.99) -> int:
    """Rows of softmax(ω / τ) whose largest weight is above ``threshold``, in float64 Python arithmetic."""
    return sum(max(softmax_floats(row, tau)) > threshold for row in scores.double().tolist())


def inside_convex_hull(
    points: torch.Tensor, inputs: torch.Tensor, *, directions: int = 512, rtol: float = 1e-4
) -> torch.Tensor:
    """Whether each point (P, d) lies in the convex hull of the inputs (T, d), by its support function.

    A point is kept when, for every tested unit direction u, min_j u·x_j - eps ≤ u·p ≤ max_j u·x_j + eps, with
    eps = rtol · max_j |x_j|. Directions: random ones, the ± axes, and each point's own direction from the
    inputs' mean (which catches far-away points in high dimensions). Every point inside passes; a point outside
    fails unless it is within eps of the hull in every tested direction. (Kept here from the library's old
    ``facts.inside_convex_hull``, which only the tests used.)
    """
    x, p = inputs.double(), points.double()  # (T, d), (P, d)
    dim = x.shape[1]
    random = torch.randn(directions, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    axes = torch.eye(dim, dtype=torch.float64)
    shared = torch.cat([random, axes, -axes])  # (K, d)
    shared = shared / shared.norm(dim=1, keepdim=True)
    eps = rtol * max(float(x.norm(dim=1).max()), 1e-30)
    projected_inputs, projected_points = x @ shared.T, p @ shared.T  # (T, K), (P, K)
    low, high = projected_inputs.min(dim=0).values - eps, projected_inputs.max(dim=0).values + eps
    inside = ((projected_points >= low) & (projected_points <= high)).all(dim=1)  # (P,)
    outward = p - x.mean(dim=0)  # (P, d)
    length = outward.norm(dim=1, keepdim=True)
    own = torch.where(length > 0, outward / length.clamp_min(1e-300), torch.zeros_like(outward))
    reach = (x @ own.T).max(dim=0).values + eps  # (P,)
    return inside & ((p * own).sum(dim=1) <= reach)


def significant_digits(number: str) -> int:
    """Significant digits of a printed number, counted here independently of the library's own counter."""
    mantissa = re.split(r"e| \\times", number)[0].lstrip("-")
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits) if digits else 1


def unpacked(packed: str) -> list[list[float | None]]:
    """A matrix sent as packed_floats (one string of T² numbers, row by row) back as T rows; null is None."""
    values = json.loads("[" + packed.replace(" ", ",") + "]")
    count = math.isqrt(len(values))
    assert count * count == len(values), len(values)
    return [values[i * count : (i + 1) * count] for i in range(count)]


def run_snippet(snippet: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Execute a snippet offline: tiktoken's r50k_base and gpt2 are the bundled GPT-2 encoding."""
    from attention_core import gpt2_encoding  # the tokenizer the snippet names, read offline

    fake_tiktoken = types.ModuleType("tiktoken")
    fake_tiktoken.get_encoding = lambda name: gpt2_encoding() if name in ("r50k_base", "gpt2") else pytest.fail(name)
    monkeypatch.setitem(sys.modules, "tiktoken", fake_tiktoken)
    namespace: dict = {}
    try:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(snippet, "<snippet>", "exec"), namespace)
    finally:
        torch.set_printoptions(profile="default")  # the snippet sets precision=4
    return namespace
