"""Trainable query and key projections, trained on one (query, key) pair: the step after chapter 3.3.

Weight-free attention scores a query against a key with their embeddings alone, so where a token looks is fixed by
how its vector happens to point. Section 3.4 projects each input first, with trainable matrices:

    query    q   = x_q W_query        (d,) @ (d, d_k) -> (d_k,)
    keys     K   = X W_key            (T, d) @ (d, d_k) -> (T, d_k)
    scores   ω_q = q Kᵀ / √d_k        (d_k,) @ (d_k, T) -> (T,)
    weights  α_q = softmax(ω_q)       (T,), sums to 1
    loss     −log α_q[key]

Here Adam changes W_query and W_key until the query attends to one chosen key: the smallest experiment that shows
weights being learned. With W_query = W_key = I (d_k = d) the scores are x_q · x_j / √d, this chapter's weight-free
attention at temperature τ = √d.

>>> import torch
>>> inputs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
>>> result = train_query_key(inputs, query=0, key=1, steps=50)
>>> float(result.weights_before[1]) < 0.3 < 0.9 < float(result.weights_after[1])
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from .attention import check_inputs
from .limits import InputError, check_index, check_key_dim, check_learning_rate, check_seed, check_steps

Init = Literal["identity", "random"]
INITS: tuple[Init, ...] = ("identity", "random")
DEFAULT_STEPS = 100
DEFAULT_LEARNING_RATE = 0.1
# Adam's fused CPU kernel is 5x faster than the per-tensor update at d = 768, but costs milliseconds per step to
# start its threads, 40x slower at d = 3 (benchmarks/bench_core.py, (f)): it is used from this many entries a matrix.
FUSED_ADAM_FROM = 4096
# The query's weight row is kept at this many steps (at most) for an animation, denser early, where it moves most.
CHECKPOINTS = 11


@dataclass(frozen=True)
class Training:
    """What training W_query and W_key on one (query, key) pair did. Tensors are float32 (what a page shows); the
    learning itself ran in float64.

    query, key: 0-based positions; the loss is −log α(query → key).
    steps, learning_rate, init, seed: the settings (seed drew the "random" init; "identity" draws nothing).
    loss: (steps + 1,) loss[t] after t Adam steps; loss[0] is before training, loss[-1] after the last step.
    weights_before, weights_after: (T,) the query's attention weights α_q with the initial and the learned matrices.
    w_query, w_key: (d, d_k) the learned W_query and W_key.
    checkpoint_steps: (C,) increasing step numbers, from 0 to ``steps``.
    checkpoint_weights: (C, T) the query's weights after each of ``checkpoint_steps``.
    """

    query: int
    key: int
    steps: int
    learning_rate: float
    init: Init
    seed: int
    loss: torch.Tensor
    weights_before: torch.Tensor
    weights_after: torch.Tensor
    w_query: torch.Tensor
    w_key: torch.Tensor
    checkpoint_steps: tuple[int, ...]
    checkpoint_weights: torch.Tensor

    @property
    def key_dim(self) -> int:
        """d_k, the width of the projections."""
        return int(self.w_query.shape[1])


def query_key_scores(inputs: torch.Tensor, query: int, w_query: torch.Tensor, w_key: torch.Tensor) -> torch.Tensor:
    """The query's scores ω_q = (x_q W_query)(X W_key)ᵀ / √d_k against every key, shape (T,).

    inputs: (T, d); w_query, w_key: (d, d_k). Computed as X (W_key (W_query ᵀ x_q)) / √d_k: the same product,
    associated so that no (T, d_k) key matrix is formed, which makes a step O(T·d + d·d_k) instead of O(T·d·d_k).
    """
    key_dim = w_query.shape[1]
    projected_query = inputs[query] @ w_query  # (d,) @ (d, d_k) -> (d_k,)
    pulled_back = w_key @ projected_query  # (d, d_k) @ (d_k,) -> (d,): W_key qᵀ, so X W_key qᵀ = X (W_key qᵀ)
    return inputs @ pulled_back / math.sqrt(key_dim)  # (T, d) @ (d,) -> (T,)


def query_key_weights(inputs: torch.Tensor, query: int, w_query: torch.Tensor, w_key: torch.Tensor) -> torch.Tensor:
    """The query's attention weights α_q = softmax((x_q W_query)(X W_key)ᵀ / √d_k), shape (T,), summing to 1.

    With W_query = W_key = I this is row ``query`` of weight-free attention at τ = √d:

    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> query_key_weights(x, 0, torch.eye(2), torch.eye(2))
    tensor([0.6698, 0.3302])
    """
    return torch.softmax(query_key_scores(inputs, query, w_query, w_key), dim=-1)


def initial_projections(
    dim: int, key_dim: int, *, init: Init = "identity", seed: int = 123
) -> tuple[torch.Tensor, ...]:
    """W_query and W_key before training, each (dim, key_dim) float64.

    "identity": I (the first key_dim columns of I when d_k < d, I padded with zero columns when d_k > d). Training
    then starts from this chapter's attention (at τ = √d when d_k = d), so "before" is the row a learner has
    studied, and what changes is what training adds; a random start would show a "before" row that means nothing.
    "random": entries drawn from N(0, 1/d) by a local generator seeded with ``seed``: with that spread, x W keeps
    about the size of x (each entry sums d terms of variance x_i²/d), as nn.Linear's own initializations aim for.
    """
    if init == "identity":
        eye = torch.eye(dim, key_dim, dtype=torch.float64)  # (d, d_k)
        return eye.clone(), eye.clone()
    if init == "random":
        generator = torch.Generator().manual_seed(check_seed(seed))
        scale = 1.0 / math.sqrt(dim)
        w_query = torch.randn(dim, key_dim, generator=generator, dtype=torch.float64) * scale  # (d, d_k)
        w_key = torch.randn(dim, key_dim, generator=generator, dtype=torch.float64) * scale  # (d, d_k)
        return w_query, w_key
    raise InputError(f"The init is {init!r}; choose one of {', '.join(INITS)}.")


def checkpoint_steps(steps: int, count: int = CHECKPOINTS) -> tuple[int, ...]:
    """Up to ``count`` step numbers from 0 to ``steps``, spaced quadratically: the row moves most early on.

    >>> checkpoint_steps(100)
    (0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100)
    >>> checkpoint_steps(3)
    (0, 1, 2, 3)
    """
    return tuple(sorted({round(steps * (i / (count - 1)) ** 2) for i in range(count)}))


def train_query_key(
    inputs: torch.Tensor,
    query: object,
    key: object,
    *,
    steps: object = DEFAULT_STEPS,
    key_dim: object | None = None,
    learning_rate: object = DEFAULT_LEARNING_RATE,
    init: Init = "identity",
    seed: object = 123,
) -> Training:
    """Train W_query and W_key (d × d_k) with Adam so that token ``query`` attends to token ``key``.

    inputs: (T, d) embeddings X (any float dtype; training runs in float64). query, key: 0-based positions.
    steps: Adam steps, 1 to 500. key_dim: d_k, 1 to 768 (d by default). learning_rate: Adam's, 1e-4 to 1.
    init: "identity" (start from this chapter's attention) or "random" (N(0, 1/d), drawn with ``seed``).
    Deterministic: the same arguments give the same numbers. Raises InputError for any input out of range.

    >>> result = train_query_key(torch.eye(3), query=0, key=2, steps=10)
    >>> result.loss.shape, result.w_query.shape, result.checkpoint_steps[-1]
    (torch.Size([11]), torch.Size([3, 3]), 10)
    """
    check_inputs(inputs, finite=True)
    count, dim = inputs.shape
    query = check_index(query, "query", count)
    key = check_index(key, "key", count)
    steps = check_steps(steps)
    key_dim = check_key_dim(dim if key_dim is None else key_dim)
    rate = check_learning_rate(learning_rate)
    seed = check_seed(seed)
    if init not in INITS:
        raise InputError(f"The init is {init!r}; choose one of {', '.join(INITS)}.")

    x = inputs.detach().to(torch.float64)  # (T, d)
    w_query, w_key = initial_projections(dim, key_dim, init=init, seed=seed)
    w_query.requires_grad_(True)
    w_key.requires_grad_(True)
    optimizer = torch.optim.Adam([w_query, w_key], lr=rate, fused=dim * key_dim >= FUSED_ADAM_FROM)
    kept = checkpoint_steps(steps)
    losses = torch.empty(steps + 1, dtype=torch.float64)
    rows = []
    with torch.enable_grad():  # a caller under torch.no_grad() still gets a trained result
        for step in range(steps + 1):
            log_weights = torch.log_softmax(query_key_scores(x, query, w_query, w_key), dim=-1)  # (T,)
            loss = -log_weights[key]  # −log α(query → key)
            losses[step] = loss.detach()
            if step in kept:
                rows.append(log_weights.detach().exp())  # (T,)
            if step == steps:
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    if not bool(torch.isfinite(losses).all()):
        raise InputError(
            "Training diverged: the loss is not finite. The embeddings are too large for these steps; scale the "
            "table down (entries around 1 are typical) or lower the learning rate."
        )
    checkpoint_weights = torch.stack(rows).float()  # (C, T)
    return Training(
        query=query,
        key=key,
        steps=steps,
        learning_rate=rate,
        init=init,
        seed=seed,
        loss=losses.float(),
        weights_before=checkpoint_weights[0],
        weights_after=checkpoint_weights[-1],
        w_query=w_query.detach().float(),
        w_key=w_key.detach().float(),
        checkpoint_steps=kept,
        checkpoint_weights=checkpoint_weights,
    )
