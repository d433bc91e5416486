"""The seeded nn.Embedding recipe and its bounded cache."""

from __future__ import annotations

import re

import pytest
import torch
from reference import recipe_inputs

from attention_core import InputError, clear_embedding_cache, embedding_table, random_embeddings
from attention_core import embeddings as embeddings_module

# --- random_embeddings: the book's recipe ------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "dim"),
    [(123, 3), (0, 1), (123, 768), (2**32 - 1, 5)],
    ids=["book_seed_dim3", "seed0_dim1", "dim768", "max_seed"],
)
def test_random_embeddings_equal_the_recipe(seed, dim):
    ids = [0, 15496, 11, 50256, 0]
    got = random_embeddings(ids, dim=dim, seed=seed)
    assert got.shape == (len(ids), dim)
    assert got.dtype == torch.float32
    assert not got.requires_grad
    assert torch.equal(got, recipe_inputs(ids, dim=dim, seed=seed))


def test_random_embeddings_accept_a_tensor_of_ids():
    ids = torch.tensor([4, 8, 15])
    assert torch.equal(random_embeddings(ids, dim=4, seed=1), recipe_inputs([4, 8, 15], dim=4, seed=1))


def test_global_rng_is_untouched():
    clear_embedding_cache()
    torch.manual_seed(2024)
    before = torch.get_rng_state()
    random_embeddings([1, 2, 3], dim=3, seed=123)  # builds a new table
    random_embeddings([1, 2, 3], dim=3, seed=123)  # from the cache
    assert torch.equal(torch.get_rng_state(), before)


def test_same_token_same_vector():
    together = random_embeddings([5, 9, 5], dim=6, seed=11)
    alone = random_embeddings([5], dim=6, seed=11)
    assert torch.equal(together[0], together[2])
    assert torch.equal(together[0], alone[0])
    assert not torch.equal(together[0], together[1])


def test_different_seeds_give_different_vectors():
    assert not torch.equal(random_embeddings([5], dim=6, seed=1), random_embeddings([5], dim=6, seed=2))


def test_result_is_a_copy_of_the_cached_table():
    first = random_embeddings([3], dim=3, seed=5)
    first += 100.0
    assert torch.equal(random_embeddings([3], dim=3, seed=5), recipe_inputs([3], dim=3, seed=5))


def test_cache_returns_the_same_table():
    clear_embedding_cache()
    first = embedding_table(dim=3, seed=1)
    assert embedding_table(dim=3, seed=1) is first
    assert embedding_table(dim="3", seed=1.0) is first  # normalized before the lookup
    assert first.shape == (50257, 3)


def test_cache_is_bounded_by_count():
    clear_embedding_cache()
    limit = embeddings_module.CACHE_MAX_TABLES
    for seed in range(3 * limit):
        embedding_table(dim=2, seed=seed)
        assert len(embeddings_module._cache) <= limit
    assert len(embeddings_module._cache) == limit
    assert (3 * limit - 1, 2) in embeddings_module._cache  # the newest stays
    assert (0, 2) not in embeddings_module._cache  # the oldest went


def test_cache_is_bounded_by_bytes(monkeypatch):
    table_bytes = 50257 * 8 * 4  # a dim-8 table; the real budget holds two dim-768 tables (154 MB each)
    monkeypatch.setattr(embeddings_module, "CACHE_MAX_BYTES", 2 * table_bytes)
    clear_embedding_cache()
    for seed in range(3):
        embedding_table(dim=8, seed=seed)
        assert sum(t.nbytes for t in embeddings_module._cache.values()) <= 2 * table_bytes
    assert list(embeddings_module._cache) == [(1, 8), (2, 8)]  # the oldest went
    embedding_table(dim=16, seed=0)  # larger than the budget alone: kept, as the only table
    assert list(embeddings_module._cache) == [(0, 16)]
    clear_embedding_cache()
    assert len(embeddings_module._cache) == 0


def test_cache_keeps_the_recently_used_table():
    clear_embedding_cache()
    limit = embeddings_module.CACHE_MAX_TABLES
    kept = embedding_table(dim=2, seed=1000)
    for seed in range(limit + 2):
        embedding_table(dim=2, seed=1000)  # touch it, so it is never the least recently used
        embedding_table(dim=2, seed=seed)
    assert embedding_table(dim=2, seed=1000) is kept


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"dim": 0, "seed": 1}, "The embedding dimension is 0"), ({"dim": 3, "seed": -1}, "The seed is -1")],
    ids=["dim", "seed"],
)
def test_random_embeddings_check_dim_and_seed(kwargs, message):
    with pytest.raises(InputError, match=re.escape(message)):
        random_embeddings([1], **kwargs)


@pytest.mark.parametrize("ids", [[-1], [50257], [0, 99999]], ids=["negative", "vocab_size", "far"])
def test_random_embeddings_reject_ids_outside_the_vocabulary(ids):
    with pytest.raises(InputError, match="Token ids must be between 0 and 50256"):
        random_embeddings(ids, dim=3, seed=1)
