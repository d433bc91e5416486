"""Facts that hold because self-attention here has no trainable weights, each checkable on a run.

- Repeated tokens: identical input vectors get identical rows and columns of the weights.
- Order: shuffling the tokens only shuffles the rows and columns of the weights (no positions, no order).
- Self-match: a token's score with itself is ‖x‖², which is its largest score only sometimes.
- Geometry: each context vector is a convex combination of the inputs (weights ≥ 0 that sum to 1),
  so it lies inside the inputs' convex hull.

Shapes use T tokens and d dimensions. Positions are 0-based here; the views count from 1, like the book.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .attention import SelfAttention, check_inputs
from .limits import InputError

# --- repeated tokens -----------------------------------------------------------------------------


def repeated_tokens(ids: Sequence[int] | None, inputs: torch.Tensor) -> list[list[int]]:
    """Groups of positions whose input vectors are identical, each group with at least 2 positions.

    ids: T token ids, or None for a user table with labels only; only their count is checked.
    inputs: (T, d). The grouping uses the vectors themselves, so it is right for both sources: with the
    seeded table the same id always gets the same row, and in a user table two rows are grouped only
    when every number matches (the same id with different table rows is not grouped).

    Returns 0-based positions, ascending within a group, groups ordered by their first position.

    >>> repeated_tokens([1, 2, 1], torch.tensor([[1.0], [2.0], [1.0]]))
    [[0, 2]]
    """
    check_inputs(inputs, finite=True)
    count = inputs.shape[0]
    if ids is not None and len(ids) != count:
        raise InputError(f"ids has {len(ids)} entries but inputs has {count} rows; give one id per row.")
    positions: dict[tuple[float, ...], list[int]] = {}
    for index, row in enumerate(inputs.tolist()):  # Python floats: 0.0 and -0.0 share a key, as they compare equal
        positions.setdefault(tuple(row), []).append(index)
    return [group for group in positions.values() if len(group) >= 2]


# --- order: shuffling the tokens -------------------------------------------------------------------


def permute(inputs: torch.Tensor, permutation: Sequence[int]) -> torch.Tensor:
    """The rows of ``inputs`` (T, d) in a new order: row i of the result is row ``permutation[i]``.

    >>> permute(torch.tensor([[1.0], [2.0], [3.0]]), [2, 0, 1]).flatten().tolist()
    [3.0, 1.0, 2.0]
    """
    check_inputs(inputs, finite=True)
    order = check_permutation(permutation, inputs.shape[0])
    return inputs[torch.tensor(order, dtype=torch.long)]  # (T, d)


def random_permutation(count: int, *, seed: int, avoid: Sequence[int] | None = None) -> list[int]:
    """A seeded random order of ``range(count)``, never the identity when count ≥ 2 (a shuffle should show),
    and never ``avoid`` (the previous order) when count ≥ 3, so each shuffle changes something.

    Uses a local ``torch.Generator``, so the global RNG is untouched.

    >>> sorted(random_permutation(5, seed=0))
    [0, 1, 2, 3, 4]
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InputError(f"count must be a whole number ≥ 0, got {count!r}")
    generator = torch.Generator().manual_seed(int(seed))
    identity = list(range(count))
    previous = list(avoid) if avoid is not None and count >= 3 else None
    while True:
        order = torch.randperm(count, generator=generator).tolist()
        if count < 2 or (order != identity and order != previous):
            return order


def check_permutation(permutation: Sequence[int], count: int) -> list[int]:
    order = [int(p) for p in permutation]
    if sorted(order) != list(range(count)):
        raise InputError(f"permutation must hold each of 0..{count - 1} exactly once, got {order[:20]}")
    return order


def permutation_differences(
    original: SelfAttention, shuffled: SelfAttention, permutation: Sequence[int]
) -> tuple[float, float]:
    """How far attention on shuffled inputs is from the original's rows and columns moved with the tokens.

    shuffled: self-attention on ``permute(original.inputs, permutation)``. Returns the largest
    |α^shuffled_ij − α_perm(i) perm(j)| and |z^shuffled_i − z_perm(i)|: 0 up to float32 rounding.
    """
    index = torch.tensor(check_permutation(permutation, original.inputs.shape[0]), dtype=torch.long)
    expected_weights = original.weights[index][:, index]  # (T, T): row perm[i], column perm[j]
    weights = float((shuffled.weights - expected_weights).abs().max())
    context = float((shuffled.context - original.context[index]).abs().max())  # (T, d)
    return weights, context


@dataclass(frozen=True)
class Repeat:
    """A token whose input vector occurs at several ``positions`` (0-based), and how far apart their
    rows, columns and context vectors are (0, or float32 rounding)."""

    positions: list[int]
    row_difference: float
    column_difference: float
    context_difference: float


def repeats(ids: Sequence[int] | None, attention: SelfAttention) -> list[Repeat]:
    """``repeated_tokens`` with, for each group, the largest differences between the copies' rows,
    columns and context vectors in this run."""
    weights, context = attention.weights, attention.context
    found = []
    for group in repeated_tokens(ids, attention.inputs):
        first, others = group[0], list(group[1:])
        found.append(
            Repeat(
                positions=group,
                row_difference=float((weights[others] - weights[first]).abs().max()),  # (k, T) - (T,)
                column_difference=float((weights[:, others] - weights[:, first : first + 1]).abs().max()),  # (T, k)
                context_difference=float((context[others] - context[first]).abs().max()),  # (k, d) - (d,)
            )
        )
    return found


# --- self-match ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfMatch:
    """For each query i, its score with itself against its best score with another token.

    own: (T,) ω_ii = ‖x^(i)‖². best_other: (T,) max_{j≠i} ω_ij (−inf when T = 1). partner: (T,) that j.
    wins: (T,) own ≥ best_other; tie: (T,) own == best_other (a repeated token ties with its twin).
    """

    own: torch.Tensor
    best_other: torch.Tensor
    partner: torch.Tensor
    wins: torch.Tensor
    tie: torch.Tensor

    @property
    def count(self) -> int:
        """How many tokens have their largest score with themselves, ties included."""
        return int(self.wins.sum())

    @property
    def ties(self) -> int:
        return int(self.tie.sum())


def self_matches(scores: torch.Tensor) -> SelfMatch:
    """Whether each row of ``scores`` (T, T) has its largest entry on the diagonal.

    >>> self_matches(torch.tensor([[2.0, 1.0], [1.0, 0.5]])).wins.tolist()
    [True, False]
    """
    own = scores.diagonal()  # (T,)
    others = scores.clone()
    others.fill_diagonal_(float("-inf"))
    best_other, partner = others.max(dim=1)  # (T,), (T,)
    return SelfMatch(own=own, best_other=best_other, partner=partner, wins=own >= best_other, tie=own == best_other)


# --- sharpness and typical sizes ------------------------------------------------------------------


def row_entropy(scores: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """The entropy (nats) of each row of softmax(scores / τ), in float64 and without cancellation.

    With s_j = ω_j / τ − max and the row's largest at s = 0: Z = 1 + r with r = Σ_{others} e^{s_j}, and
    H = log1p(r) − (Σ_{others} e^{s_j} s_j) / Z, a sum of two non-negative terms. Computing −Σ α log α from
    weights instead loses every term of a nearly one-hot row (a weight of exactly 1.0 has log 0).
    scores: (T, T). Returns (T,) float64.

    >>> row_entropy(torch.tensor([[0.0, 0.0], [0.0, -40.0]])).tolist()
    [0.6931471805599453, 1.7418252446695514e-16]
    """
    scaled = scores.double() / float(temperature)  # (T, T)
    shifted = scaled - scaled.amax(dim=-1, keepdim=True)  # (T, T), ≤ 0
    top = shifted.argmax(dim=-1, keepdim=True)  # (T, 1): one largest entry per row
    others = torch.ones_like(shifted, dtype=torch.bool).scatter(-1, top, False)  # (T, T)
    exps = torch.where(others, torch.exp(shifted), torch.zeros_like(shifted))  # (T, T)
    rest = exps.sum(dim=-1)  # (T,) r
    weighted = torch.where(others, exps * shifted, torch.zeros_like(shifted)).sum(dim=-1)  # (T,) ≤ 0
    return torch.log1p(rest) - weighted / (1.0 + rest)


def same_vector_pairs(scores: torch.Tensor) -> torch.Tensor:
    """Which pairs (i, k), i ≠ k, hold the same input vector, read from the scores alone.

    x^(i) = x^(k) exactly when ω_ik = ω_ii = ω_kk, because ‖x^(i) − x^(k)‖² = ω_ii − 2ω_ik + ω_kk. Copies of a
    token compute those three dot products from the same numbers, so they are equal in float32 too.
    scores: (T, T). Returns (T, T) bool.

    >>> same_vector_pairs(torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])).tolist()
    [[False, True, False], [True, False, False], [False, False, False]]
    """
    own = scores.diagonal()  # (T,)
    same = (scores == own[:, None]) & (scores == own[None, :])  # (T, T)
    return same & ~torch.eye(scores.shape[0], dtype=torch.bool)


# --- a hint of trainable projections --------------------------------------------------------------


def projected_scores(inputs: torch.Tensor, *, dim_out: int = 2, seed: int = 123) -> torch.Tensor:
    """Scores with query and key projections, as section 3.4 adds them, but random, not trained.

    W_q and W_k are drawn as the book's ``torch.manual_seed(seed); torch.rand(d_in, d_out)`` (W_query, then
    W_key), from a local generator. Entry (i, j) is q^(i) · k^(j) with q = x W_q, k = x W_k: no longer symmetric.
    inputs: (T, d_in). Returns (T, T), unscaled.
    """
    check_inputs(inputs, finite=True)
    generator = torch.Generator().manual_seed(int(seed))
    w_query = torch.rand(inputs.shape[1], dim_out, generator=generator)  # (d_in, d_out)
    w_key = torch.rand(inputs.shape[1], dim_out, generator=generator)  # (d_in, d_out)
    queries = inputs @ w_query  # (T, d_in) @ (d_in, d_out) -> (T, d_out)
    keys = inputs @ w_key  # (T, d_in) @ (d_in, d_out) -> (T, d_out)
    return queries @ keys.T  # (T, d_out) @ (d_out, T) -> (T, T)


def projected_weights(inputs: torch.Tensor, *, dim_out: int = 2, seed: int = 123) -> torch.Tensor:
    """softmax(``projected_scores`` / √d_out), row by row: the book's scaled dot-product attention weights with
    random (untrained) W_q and W_k. inputs: (T, d_in). Returns (T, T), each row summing to 1."""
    scores = projected_scores(inputs, dim_out=dim_out, seed=seed)  # (T, T)
    return torch.softmax(scores / dim_out**0.5, dim=-1)


# --- geometry ---------------------------------------------------------------------------------------


def project_2d(inputs: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[float, float]]:
    """Project the inputs and the context vectors onto the inputs' top 2 principal components.

    inputs: (T, d), context: (T, d). Returns (inputs_2d (T, 2), context_2d (T, 2), explained) in float64:
    both sets are centred by the INPUTS' mean and projected on the same basis (the top 2 right singular
    vectors of the centred inputs), so a context vector stays inside the projected inputs' hull.
    explained is the fraction of the inputs' variance on each component; both are 0 when the inputs
    have no variance (T = 1 or identical rows).

    d == 1: the second coordinate is 0. d == 2: an exact rotation (pairwise distances are unchanged).
    Each component's sign is fixed so its largest-magnitude loading is positive (for d == 2 the second
    component's sign instead makes the map a rotation rather than a reflection).

    >>> a, b, explained = project_2d(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    >>> a.tolist(), b.tolist(), explained
    ([[-1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], (1.0, 0.0))
    """
    check_inputs(inputs, finite=True)
    if not isinstance(context, torch.Tensor) or context.ndim != 2 or context.shape[1] != inputs.shape[1]:
        shape = tuple(context.shape) if isinstance(context, torch.Tensor) else type(context).__name__
        raise InputError(f"context must be a (T, d) tensor with d = {inputs.shape[1]}, got {shape}")
    x = inputs.detach().double().cpu()  # (T, d)
    z = context.detach().double().cpu()  # (T, d)
    mean = x.mean(dim=0)  # (d,)
    centred = x - mean  # (T, d)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)  # vh: (k, d), k = min(T, d)
    basis = vh[:2].clone()  # (≤2, d), orthonormal rows
    for row in range(basis.shape[0]):
        if basis[row, int(basis[row].abs().argmax())] < 0:
            basis[row] = -basis[row]
    if basis.shape == (2, 2) and float(torch.linalg.det(basis)) < 0:
        basis[1] = -basis[1]  # a rotation, not a reflection
    inputs_2d = centred @ basis.T  # (T, d) @ (d, ≤2) -> (T, ≤2)
    context_2d = (z - mean) @ basis.T  # (T, d) @ (d, ≤2) -> (T, ≤2)
    total = float((singular**2).sum())  # = the centred inputs' squared Frobenius norm
    variances = (singular[:2] ** 2).tolist()
    explained = [v / total if total > 0 else 0.0 for v in variances]
    if inputs_2d.shape[1] < 2:  # d == 1 or T == 1: pad the missing coordinate with 0
        pad = 2 - inputs_2d.shape[1]
        inputs_2d = torch.cat([inputs_2d, torch.zeros(inputs_2d.shape[0], pad, dtype=torch.float64)], dim=1)
        context_2d = torch.cat([context_2d, torch.zeros(context_2d.shape[0], pad, dtype=torch.float64)], dim=1)
        explained += [0.0] * pad
    return inputs_2d, context_2d, (explained[0], explained[1])
