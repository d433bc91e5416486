"""Token embeddings: the seeded random table the book uses (a user's own table is parsed by ``tables``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import torch

from .limits import InputError, check_dim, check_seed
from .tokens import VOCAB_SIZE

# A dim-768 table is 50257 x 768 float32 = 154 MB, so the cache is bounded by bytes as well as count.
CACHE_MAX_TABLES = 8
CACHE_MAX_BYTES = 2 * VOCAB_SIZE * 768 * 4

_cache: OrderedDict[tuple[int, int], torch.Tensor] = OrderedDict()
_cache_lock = threading.Lock()


def embedding_table(*, dim: int, seed: int) -> torch.Tensor:
    """The full (50257, dim) table of ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim)``.

    Built with a local ``torch.Generator``, so the global RNG is untouched, and kept in a small
    LRU cache, so a repeated (seed, dim) costs nothing. Treat the result as read-only.
    """
    dim = check_dim(dim)
    seed = check_seed(seed)
    key = (seed, dim)
    with _cache_lock:
        table = _cache.get(key)
        if table is not None:
            _cache.move_to_end(key)
            return table
    generator = torch.Generator().manual_seed(seed)
    # nn.Embedding.reset_parameters draws N(0, 1) in this exact order.
    table = torch.randn(VOCAB_SIZE, dim, generator=generator)  # (V, d)
    with _cache_lock:
        _cache[key] = table
        _cache.move_to_end(key)
        while len(_cache) > 1 and (
            len(_cache) > CACHE_MAX_TABLES or sum(t.nbytes for t in _cache.values()) > CACHE_MAX_BYTES
        ):
            _cache.popitem(last=False)
    return table


def random_embeddings(token_ids: Sequence[int] | torch.Tensor, *, dim: int, seed: int) -> torch.Tensor:
    """Rows ``token_ids`` of the seeded GPT-2-sized embedding table, shape (T, dim).

    Equal to ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim).weight[token_ids]``,
    so the same token always gets the same vector.

    >>> random_embeddings([15496, 11], dim=3, seed=123).shape
    torch.Size([2, 3])
    """
    ids = torch.as_tensor(token_ids, dtype=torch.long).reshape(-1)
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= VOCAB_SIZE):
        raise InputError(f"Token ids must be between 0 and {VOCAB_SIZE - 1}.")
    return embedding_table(dim=dim, seed=seed)[ids]  # (T, d), a copy


def clear_embedding_cache() -> None:
    """Drop every cached table (for tests and memory measurements)."""
    with _cache_lock:
        _cache.clear()
