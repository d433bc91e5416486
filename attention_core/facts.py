"""Facts that hold because self-attention here has no trainable weights, each checkable on a run.

- Repeated tokens: identical input vectors get identical rows and columns of the weights.
- Order: shuffling the tokens only shuffles the rows and columns of the weights (no positions, no order).
- Geometry: each context vector is a convex combination of the inputs (weights ≥ 0 that sum to 1),
  so it lies inside the inputs' convex hull.

Shapes use T tokens and d dimensions. Positions are 0-based in data and 1-based in text, like the book.
(How often a token's best score is with itself is ``explain.self_match_count``.)
"""

from __future__ import annotations

from typing import Sequence

import torch

from .attention import SelfAttention, check_inputs
from .explain import token_html

# Markdown tables stop listing after this many rows.
_MARKDOWN_MAX_ROWS = 32


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
        raise ValueError(f"ids has {len(ids)} entries but inputs has {count} rows; give one id per row.")
    positions: dict[tuple[float, ...], list[int]] = {}
    for index, row in enumerate(inputs.tolist()):  # Python floats: 0.0 and -0.0 share a key, as they compare equal
        positions.setdefault(tuple(row), []).append(index)
    return [group for group in positions.values() if len(group) >= 2]


def repeated_tokens_markdown(tokens: Sequence[str], groups: Sequence[Sequence[int]], attention: SelfAttention) -> str:
    """Point out the repeated tokens and check, on this run's weights, that their rows and columns match.

    groups: from ``repeated_tokens`` (0-based positions). attention.weights: (T, T), attention.context: (T, d).
    """
    if not groups:
        return (
            "**No repeated tokens:** every token has a different input vector, so no two rows of the weights "
            "are forced to be equal. Try a text that repeats a word, such as *the cat and the hat and the bat*."
        )
    weights, context = attention.weights, attention.context
    rows = []
    largest = 0.0
    for group in groups:
        first, others = group[0], list(group[1:])
        row_difference = float((weights[others] - weights[first]).abs().max())  # (k, T) - (T,)
        column_difference = float((weights[:, others] - weights[:, first : first + 1]).abs().max())  # (T, k) - (T, 1)
        context_difference = float((context[others] - context[first]).abs().max())  # (k, d) - (d,)
        largest = max(largest, row_difference, column_difference, context_difference)
        rows.append((group, row_difference, column_difference, context_difference))

    repeated = sum(len(group) for group in groups)
    lines = [
        f"**Repeated tokens:** {len(groups)} token{'s' if len(groups) != 1 else ''} "
        f"{'appear' if len(groups) != 1 else 'appears'} more than once with the same input vector "
        f"({repeated} of {weights.shape[0]} positions).",
        "",
        r"Identical vectors have identical dot products with every token: if \(x^{(i)} = x^{(k)}\) then "
        r"\(\omega_{ij} = \omega_{kj}\) and \(\omega_{ji} = \omega_{jk}\) for every j. So their **rows** of the "
        "weights are identical (they attend in exactly the same way), their **columns** are identical (every "
        "token pays them the same attention), and their context vectors are identical. Without trainable "
        "weights or positions, attention cannot tell the two occurrences apart.",
        "",
        "| token | positions | largest row difference | largest column difference | largest context difference |",
        "|---|---|---:|---:|---:|",
    ]
    for group, row_difference, column_difference, context_difference in rows[:_MARKDOWN_MAX_ROWS]:
        shown = ", ".join(str(i + 1) for i in group[:12]) + (f", … ({len(group)} in all)" if len(group) > 12 else "")
        lines.append(
            f"| {token_html(tokens[group[0]])} | {shown} | {_difference(row_difference)} "
            f"| {_difference(column_difference)} | {_difference(context_difference)} |"
        )
    if len(rows) > _MARKDOWN_MAX_ROWS:
        lines.append(f"| … | ({len(rows) - _MARKDOWN_MAX_ROWS} more tokens) | | | |")
    verdict = (
        "they are exactly equal, bit for bit"
        if largest == 0.0
        else f"the largest difference is {largest:.2e}, float32 rounding only"
    )
    lines += ["", f"Checked on this run's weights: {verdict}."]
    return "\n".join(lines)


def _difference(value: float) -> str:
    return "0 (equal)" if value == 0.0 else f"{value:.2e}"


# --- order: shuffling the tokens -------------------------------------------------------------------


def permute(inputs: torch.Tensor, permutation: Sequence[int]) -> torch.Tensor:
    """The rows of ``inputs`` (T, d) in a new order: row i of the result is row ``permutation[i]``.

    >>> permute(torch.tensor([[1.0], [2.0], [3.0]]), [2, 0, 1]).flatten().tolist()
    [3.0, 1.0, 2.0]
    """
    check_inputs(inputs, finite=True)
    order = _check_permutation(permutation, inputs.shape[0])
    return inputs[torch.tensor(order, dtype=torch.long)]  # (T, d)


def random_permutation(count: int, *, seed: int, avoid: Sequence[int] | None = None) -> list[int]:
    """A seeded random order of ``range(count)``, never the identity when count ≥ 2 (a shuffle should show),
    and never ``avoid`` (the previous order) when count ≥ 3, so each shuffle changes something.

    Uses a local ``torch.Generator``, so the global RNG is untouched.

    >>> sorted(random_permutation(5, seed=0))
    [0, 1, 2, 3, 4]
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number ≥ 0, got {count!r}")
    generator = torch.Generator().manual_seed(int(seed))
    identity = list(range(count))
    previous = list(avoid) if avoid is not None and count >= 3 else None
    while True:
        order = torch.randperm(count, generator=generator).tolist()
        if count < 2 or (order != identity and order != previous):
            return order


def shuffle_markdown(
    tokens: Sequence[str], permutation: Sequence[int], original: SelfAttention, shuffled: SelfAttention
) -> str:
    """Explain, with this run's numbers, that shuffling the tokens only shuffles the heatmap.

    tokens: the original T tokens. permutation: shuffled position i holds original token ``permutation[i]``.
    original, shuffled: self-attention on ``inputs`` and on ``permute(inputs, permutation)``.
    """
    count = len(tokens)
    order = _check_permutation(permutation, count)
    index = torch.tensor(order, dtype=torch.long)
    expected_weights = original.weights[index][:, index]  # (T, T): row perm[i], column perm[j]
    weights_difference = float((shuffled.weights - expected_weights).abs().max())
    context_difference = float((shuffled.context - original.context[index]).abs().max())  # (T, d)

    shown = min(count, _MARKDOWN_MAX_ROWS)
    order_text = " ".join(token_html(tokens[p]) for p in order[:shown]) + (" …" if shown < count else "")
    lines = [
        f"**Shuffled order:** {order_text}",
        "",
        r"Row i and column j of the shuffled heatmap are row perm(i) and column perm(j) of the original: "
        r"\(\alpha^{\text{shuffled}}_{ij} = \alpha_{\mathrm{perm}(i)\,\mathrm{perm}(j)}\). The same numbers, moved "
        "with their tokens; and each token keeps its context vector.",
        "",
        "| shuffled position i | token | original position perm(i) |",
        "|---:|---|---:|",
    ]
    for i in range(min(count, 12)):
        lines.append(f"| {i + 1} | {token_html(tokens[order[i]])} | {order[i] + 1} |")
    if count > 12:
        lines.append(f"| … | ({count - 12} more) | |")
    lines += [
        "",
        f"Checked on this run: the largest difference between the shuffled weights and the original weights "
        f"with rows and columns reordered is {_difference_words(weights_difference)}; between the context vectors, "
        f"{_difference_words(context_difference)}.",
        "",
        "Each score depends only on the two vectors, never on where the tokens stand, so **word order carries no "
        "information** here: *dog bites man* and *man bites dog* get the same weights, reordered. "
        "GPT-style models add positional embeddings to the inputs (chapter 2) so that order can matter.",
    ]
    return "\n".join(lines)


def _difference_words(value: float) -> str:
    return "0 (exactly equal)" if value == 0.0 else f"{value:.2e} (float32 rounding)"


def _check_permutation(permutation: Sequence[int], count: int) -> list[int]:
    order = [int(p) for p in permutation]
    if sorted(order) != list(range(count)):
        raise ValueError(f"permutation must hold each of 0..{count - 1} exactly once, got {order[:20]}")
    return order


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
        raise ValueError(f"context must be a (T, d) tensor with d = {inputs.shape[1]}, got {shape}")
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


def inside_convex_hull(
    points: torch.Tensor,
    inputs: torch.Tensor,
    *,
    directions: int = 512,
    seed: int = 0,
    rtol: float = 1e-4,
) -> torch.Tensor:
    """Whether each point lies in the convex hull of the inputs, by its support function.

    points: (P, d), inputs: (T, d). Returns a bool tensor (P,). A point p is kept when, for every tested
    unit direction u, min_j u·x_j - eps ≤ u·p ≤ max_j u·x_j + eps, with eps = rtol · max_j |x_j| to absorb
    float32 rounding. Directions: ``directions`` random ones (a local generator seeded with ``seed``),
    the ±coordinate axes, and for each point the direction from the inputs' mean to that point.
    Every point inside passes; a point outside fails unless it is within eps of the hull in all tested
    directions (a finite set of directions can only miss points very near the boundary).

    >>> inside_convex_hull(torch.tensor([[0.25, 0.75], [2.0, 0.0], [0.5, 0.6]]), torch.eye(2)).tolist()
    [True, False, False]
    """
    check_inputs(inputs, finite=True)
    dim = inputs.shape[1]
    if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != dim:
        shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__
        raise ValueError(f"points must be a (P, d) tensor with d = {dim}, got {shape}")
    x = inputs.detach().double().cpu()  # (T, d)
    p = points.detach().double().cpu()  # (P, d)
    generator = torch.Generator().manual_seed(int(seed))
    random = torch.randn(int(directions), dim, generator=generator, dtype=torch.float64)  # (K, d)
    axes = torch.eye(dim, dtype=torch.float64)  # (d, d)
    shared = torch.cat([random, axes, -axes])  # (K + 2d, d)
    shared = shared / shared.norm(dim=1, keepdim=True).clamp_min(1e-300)
    eps = rtol * max(float(x.norm(dim=1).max()), 1e-30)

    projected_inputs = x @ shared.T  # (T, d) @ (d, K') -> (T, K')
    projected_points = p @ shared.T  # (P, d) @ (d, K') -> (P, K')
    low = projected_inputs.min(dim=0).values - eps  # (K',)
    high = projected_inputs.max(dim=0).values + eps  # (K',)
    inside = ((projected_points >= low) & (projected_points <= high)).all(dim=1)  # (P,)

    # Each point's own outward direction catches far-away points in high dimensions, where random ones rarely do.
    outward = p - x.mean(dim=0)  # (P, d)
    length = outward.norm(dim=1, keepdim=True)  # (P, 1)
    own = torch.where(length > 0, outward / length.clamp_min(1e-300), torch.zeros_like(outward))  # (P, d)
    reach = (x @ own.T).max(dim=0).values + eps  # (T, d) @ (d, P) -> (T, P) -> (P,)
    inside &= (p * own).sum(dim=1) <= reach  # (P,)
    return inside
