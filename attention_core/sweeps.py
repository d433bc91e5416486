"""Is weight-free attention meaningful? Sweeps over seeds and dimensions, and a score split into lengths and angle.

- ``alignment``: a dot product is ‖a‖ · ‖b‖ · cos θ ("how aligned" two vectors are, times how long they are).
- ``seed_sweep``: where one query attends when only the seed of the random table changes.
- ``dimension_sweep``: how the share of one-hot rows grows with d, since ‖x‖² grows like d while the dot product of
  two unrelated random vectors grows only like √d.

Embeddings here are the app's recipe, ``torch.manual_seed(seed); torch.nn.Embedding(50257, d)``, drawn from a
local generator (the global RNG is untouched) and, unlike ``embeddings.embedding_table``, not cached: a sweep
would push the tables the page uses out of that cache. Positions are 0-based.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .attention import attention_weights, check_inputs
from .limits import InputError, check_dim, check_index, check_seed
from .tokens import VOCAB_SIZE, tokenize

# A row whose largest weight is above this is called one-hot: the token attends (almost) only to one token.
ONE_HOT = 0.99
MAX_SWEEP_SEEDS = 100
MAX_SWEEP_TOKENS = 64


@dataclass(frozen=True)
class Alignment:
    """A dot product a · b split into lengths and angle, in float64: score = norm_a · norm_b · cosine.

    cosine is 0 when either vector is zero (the angle is then undefined, and the score is 0 anyway).
    """

    score: float
    norm_a: float
    norm_b: float
    cosine: float

    @property
    def degrees(self) -> float:
        """θ in degrees, from 0 (same direction) through 90 (orthogonal) to 180 (opposite)."""
        return math.degrees(math.acos(max(-1.0, min(1.0, self.cosine))))


def alignment(a: torch.Tensor, b: torch.Tensor) -> Alignment:
    """a · b as ‖a‖ ‖b‖ cos θ, computed in float64 from the (d,) vectors ``a`` and ``b``.

    >>> split = alignment(torch.tensor([3.0, 0.0]), torch.tensor([1.0, 1.0]))
    >>> split.score, split.norm_a, round(split.norm_b * split.cosine, 12), round(split.degrees, 6)
    (3.0, 3.0, 1.0, 45.0)
    """
    for name, vector in (("a", a), ("b", b)):
        if not isinstance(vector, torch.Tensor) or vector.ndim != 1 or vector.numel() == 0:
            raise InputError(f"{name} must be a non-empty (d,) tensor")
    if a.shape != b.shape:
        raise InputError(f"a and b must have the same length, got {a.numel()} and {b.numel()}")
    x, y = a.detach().double(), b.detach().double()  # (d,), (d,)
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        raise InputError("a and b must be finite")
    score = float(x @ y)
    norm_a, norm_b = float(x.norm()), float(y.norm())
    cosine = score / (norm_a * norm_b) if norm_a > 0 and norm_b > 0 else 0.0
    return Alignment(score=score, norm_a=norm_a, norm_b=norm_b, cosine=cosine)


def recipe_rows(ids: Sequence[int], *, dim: int, seed: int) -> torch.Tensor:
    """Rows ``ids`` of ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim)``, (T, dim), not cached."""
    generator = torch.Generator().manual_seed(check_seed(seed))
    table = torch.randn(VOCAB_SIZE, check_dim(dim), generator=generator)  # (V, d), as nn.Embedding draws it
    return table[torch.as_tensor(list(ids), dtype=torch.long)]  # (T, d)


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    checked = [check_seed(seed) for seed in seeds]
    if not 1 <= len(checked) <= MAX_SWEEP_SEEDS:
        raise InputError(f"Give 1 to {MAX_SWEEP_SEEDS} seeds, not {len(checked)}.")
    return checked


def _sweep_ids(text: str) -> tuple[list[str], list[int]]:
    tokens = tokenize(text)
    if not 1 <= len(tokens.ids) <= MAX_SWEEP_TOKENS:
        raise InputError(f"A sweep takes a text of 1 to {MAX_SWEEP_TOKENS} tokens, not {len(tokens.ids)}.")
    return tokens.tokens, tokens.ids


@dataclass(frozen=True)
class SeedRow:
    """One seed of a seed sweep: the query's weights over the keys (T,), its strongest key, and the followed
    key's rank among them (1: the strongest; ties share the better rank)."""

    seed: int
    weights: torch.Tensor
    top: int
    key_rank: int


@dataclass(frozen=True)
class SeedSweep:
    tokens: list[str]
    query: int
    key: int
    dim: int
    rows: list[SeedRow]

    @property
    def ranks(self) -> list[int]:
        return [row.key_rank for row in self.rows]

    def top_counts(self) -> dict[int, int]:
        """How many seeds give each key position the query's largest weight, most often first."""
        counts: dict[int, int] = {}
        for row in self.rows:
            counts[row.top] = counts.get(row.top, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def seed_sweep(text: str, *, query: int, key: int, seeds: Sequence[int], dim: int = 3) -> SeedSweep:
    """Where token ``query`` of ``text`` attends (τ = 1), and the rank of token ``key``, for each seed of the table.

    >>> sweep = seed_sweep("The cat sat on the mat because it is warm", query=9, key=5, seeds=range(3))
    >>> len(sweep.rows), all(1 <= rank <= 10 for rank in sweep.ranks)
    (3, True)
    """
    tokens, ids = _sweep_ids(text)
    query, key = check_index(query, "query", len(ids)), check_index(key, "key", len(ids))
    dim = check_dim(dim)
    rows = []
    for seed in _check_seeds(seeds):
        inputs = recipe_rows(ids, dim=dim, seed=seed)  # (T, d)
        weights = attention_weights(inputs[query] @ inputs.T)  # (d,) @ (d, T) -> (T,)
        rank = 1 + int((weights > weights[key]).sum())
        rows.append(SeedRow(seed=seed, weights=weights, top=int(weights.argmax()), key_rank=rank))
    return SeedSweep(tokens=tokens, query=query, key=key, dim=dim, rows=rows)


@dataclass(frozen=True)
class DimensionRow:
    """One dimension of a dimension sweep, over every row of every seed (``rows`` = tokens × seeds).

    one_hot, one_hot_root: rows whose largest weight exceeds the threshold, at τ = 1 and at τ = √d.
    self_top: rows whose largest weight is on the diagonal (the token itself).
    mean_self_score: the mean of ω_ii = ‖x^(i)‖², which grows like d.
    rms_other_score: the root mean square of ω_ij for i ≠ j, which grows like √d.
    """

    dim: int
    rows: int
    one_hot: int
    one_hot_root: int
    self_top: int
    mean_self_score: float
    rms_other_score: float

    @property
    def one_hot_share(self) -> float:
        return self.one_hot / self.rows

    @property
    def one_hot_root_share(self) -> float:
        return self.one_hot_root / self.rows


def one_hot_rows(weights: torch.Tensor, *, threshold: float = ONE_HOT) -> int:
    """How many rows of ``weights`` (T, T) have a largest weight above ``threshold``.

    >>> one_hot_rows(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    1
    """
    return int((weights.max(dim=-1).values > threshold).sum())


def dimension_sweep(
    text: str, *, dims: Sequence[int], seeds: Sequence[int], threshold: float = ONE_HOT
) -> list[DimensionRow]:
    """For each d in ``dims``: how many rows of the attention weights are one-hot over ``seeds``, and the sizes of
    the scores that explain it. Scores are computed in float64 from the float32 table.

    >>> [row.dim for row in dimension_sweep("a b c", dims=(1, 2), seeds=(0,))]
    [1, 2]
    """
    _, ids = _sweep_ids(text)
    checked_dims = [check_dim(dim) for dim in dims]
    if not checked_dims:
        raise InputError("Give at least one dimension.")
    seed_list = _check_seeds(seeds)
    count = len(ids)
    off_diagonal = ~torch.eye(count, dtype=torch.bool)  # (T, T)
    found = []
    for dim in checked_dims:
        one_hot = one_hot_root = self_top = 0
        own_sum, other_squares, others = 0.0, 0.0, 0
        for seed in seed_list:
            inputs = recipe_rows(ids, dim=dim, seed=seed).double()  # (T, d)
            check_inputs(inputs, finite=True)
            scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)
            weights = torch.softmax(scores, dim=-1)  # (T, T)
            one_hot += one_hot_rows(weights, threshold=threshold)
            one_hot_root += one_hot_rows(torch.softmax(scores / math.sqrt(dim), dim=-1), threshold=threshold)
            self_top += int((weights.argmax(dim=-1) == torch.arange(count)).sum())
            own_sum += float(scores.diagonal().sum())
            other_squares += float(scores[off_diagonal].pow(2).sum())
            others += int(off_diagonal.sum())
        rows = count * len(seed_list)
        found.append(
            DimensionRow(
                dim=dim,
                rows=rows,
                one_hot=one_hot,
                one_hot_root=one_hot_root,
                self_top=self_top,
                mean_self_score=own_sum / rows,
                rms_other_score=math.sqrt(other_squares / others) if others else 0.0,
            )
        )
    return found
