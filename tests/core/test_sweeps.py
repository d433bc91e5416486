"""The lecture's measurements: a score split into lengths and angle, and the seed and dimension sweeps."""

from __future__ import annotations

import math

import pytest
import torch
from golden import INPUTS, SCORES
from reference import CAT_SENTENCE, recipe_inputs

from attention_core import InputError, tokenize
from attention_core.sweeps import (
    ONE_HOT,
    alignment,
    dimension_sweep,
    one_hot_rows,
    recipe_rows,
    seed_sweep,
)

BOOK = torch.tensor(INPUTS)  # (6, 3) float32
DIMS = (3, 16, 64, 256, 768)
SEEDS = (0, 1)  # a d = 768 table is 38.6 million draws: two seeds keep this file quick
WARM, MAT = 9, 5  # " warm" and " mat" in the cat sentence, 0-based


# --- ‖a‖ ‖b‖ cos θ ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "key"), [(1, 0), (1, 1), (1, 2), (4, 5), (0, 3)], ids=lambda v: str(v))
def test_lengths_times_cosine_is_the_books_score(query, key):
    split = alignment(BOOK[query], BOOK[key])
    a, b = BOOK[query].double(), BOOK[key].double()  # the float32 inputs, exactly, in float64
    reference = sum(float(x) * float(y) for x, y in zip(a, b))
    assert split.norm_a * split.norm_b * split.cosine == pytest.approx(reference, rel=1e-12, abs=1e-15)
    assert split.score == pytest.approx(reference, rel=1e-12)
    assert round(split.score, 4) == SCORES[query][key]  # the book's printed score
    assert split.norm_a == pytest.approx(math.sqrt(sum(float(x) ** 2 for x in a)), rel=1e-12)
    assert 0.0 <= split.degrees <= 180.0


@pytest.mark.parametrize("dim", [1, 2, 3, 64, 768], ids=lambda d: f"d{d}")
def test_the_split_equals_the_score_on_random_vectors(dim):
    generator = torch.Generator().manual_seed(dim)
    a, b = torch.randn(dim, generator=generator), torch.randn(dim, generator=generator)
    split = alignment(a, b)
    reference = float(a.double() @ b.double())
    assert split.norm_a * split.norm_b * split.cosine == pytest.approx(reference, rel=1e-11, abs=1e-12)
    assert -1.0 <= split.cosine <= 1.0


def test_a_vector_with_itself_has_angle_zero_and_a_zero_vector_has_cosine_zero():
    own = alignment(BOOK[1], BOOK[1])
    assert own.cosine == pytest.approx(1.0, abs=1e-15) and own.degrees == pytest.approx(0.0, abs=1e-6)
    assert own.score == pytest.approx(own.norm_a**2, rel=1e-14)
    zero = alignment(torch.zeros(3), BOOK[0])
    assert (zero.score, zero.norm_a, zero.cosine) == (0.0, 0.0, 0.0)
    opposite = alignment(torch.tensor([1.0, 0.0]), torch.tensor([-2.0, 0.0]))
    assert opposite.degrees == pytest.approx(180.0)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (torch.ones(3), torch.ones(2)),
        (torch.ones(2, 2), torch.ones(2, 2)),
        (torch.tensor([]), torch.tensor([])),
        (torch.tensor([float("nan"), 1.0]), torch.ones(2)),
        ([1.0, 2.0], torch.ones(2)),
    ],
    ids=["lengths", "matrices", "empty", "nan", "list"],
)
def test_alignment_refuses_what_is_not_two_vectors(a, b):
    with pytest.raises(InputError):
        alignment(a, b)


# --- the recipe's rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "seed"), [(3, 123), (16, 0), (768, 0)], ids=["d3", "d16", "d768"])
def test_the_sweeps_draw_the_apps_embeddings(dim, seed):
    ids = tokenize(CAT_SENTENCE).ids
    assert torch.equal(recipe_rows(ids, dim=dim, seed=seed), recipe_inputs(ids, dim=dim, seed=seed))


def test_a_sweep_leaves_the_global_generator_alone():
    state = torch.random.get_rng_state()
    seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=range(2))
    assert torch.equal(torch.random.get_rng_state(), state)


# --- the seed sweep ----------------------------------------------------------------------------------


def test_where_warm_attends_over_20_seeds_matches_an_independent_count():
    sweep = seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=range(20), dim=3)
    assert [sweep.tokens[i] for i in (WARM, MAT)] == [" warm", " mat"]
    ids = tokenize(CAT_SENTENCE).ids
    for seed, row in zip(range(20), sweep.rows):
        inputs = recipe_inputs(ids, dim=3, seed=seed).double()  # (T, 3)
        weights = torch.softmax(inputs[WARM] @ inputs.T, dim=0)  # (T,)
        order = sorted(range(len(ids)), key=lambda j: -float(weights[j]))
        assert row.seed == seed
        assert row.top == order[0]
        assert row.key_rank == order.index(MAT) + 1
        assert torch.allclose(row.weights.double(), weights, atol=1e-6)
    # The observation: mat ranks anywhere from 1st to 10th, and warm most often attends to itself.
    assert (min(sweep.ranks), max(sweep.ranks)) == (1, 10)
    assert next(iter(sweep.top_counts())) == WARM
    assert sum(sweep.top_counts().values()) == 20


def test_seed_sweep_refuses_bad_settings():
    with pytest.raises(InputError):
        seed_sweep(CAT_SENTENCE, query=10, key=MAT, seeds=range(3))
    with pytest.raises(InputError):
        seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=[])
    with pytest.raises(InputError):
        seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=range(101))
    with pytest.raises(InputError):
        seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=[-1])
    with pytest.raises(InputError):
        seed_sweep(CAT_SENTENCE, query=WARM, key=MAT, seeds=[0], dim=769)
    with pytest.raises(InputError):
        seed_sweep("word " * 70, query=0, key=1, seeds=[0])


# --- the dimension sweep ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def by_dim():
    return dimension_sweep(CAT_SENTENCE, dims=DIMS, seeds=SEEDS)


def test_one_hot_rows_rise_with_the_dimension(by_dim):
    shares = [row.one_hot_share for row in by_dim]
    assert [row.dim for row in by_dim] == list(DIMS)
    assert all(row.rows == 20 for row in by_dim)  # 10 tokens × 2 seeds
    assert shares == sorted(shares), shares  # never falls as d grows
    assert shares[0] < 0.5 and shares[-1] == 1.0  # few at d = 3; at d = 768 every row, as the issue says
    assert by_dim[-1].one_hot_root == by_dim[-1].rows  # even at τ = √768
    assert by_dim[-1].self_top == by_dim[-1].rows  # and each to itself


def test_self_scores_grow_like_d_and_other_scores_like_root_d(by_dim):
    for row in by_dim[1:]:  # d ≥ 16: enough terms for the averages to settle
        assert row.mean_self_score / row.dim == pytest.approx(1.0, abs=0.25)
        assert row.rms_other_score / math.sqrt(row.dim) == pytest.approx(1.0, abs=0.3)


def test_the_dimension_sweep_counts_what_an_independent_computation_counts(by_dim):
    ids = tokenize(CAT_SENTENCE).ids
    for row in by_dim[:3]:  # d = 3, 16, 64 (the recipe itself is checked at d = 768 above)
        one_hot = own = 0
        selves = []
        for seed in SEEDS:
            x = recipe_inputs(ids, dim=row.dim, seed=seed).double()  # (T, d)
            scores = x @ x.T  # (T, T)
            weights = torch.softmax(scores, dim=-1)
            one_hot += int((weights.max(dim=-1).values > ONE_HOT).sum())
            own += int((weights.argmax(dim=-1) == torch.arange(len(ids))).sum())
            selves += scores.diagonal().tolist()
        assert (row.one_hot, row.self_top) == (one_hot, own)
        assert row.mean_self_score == pytest.approx(sum(selves) / len(selves), rel=1e-12)


def test_one_hot_rows_counts_rows_above_the_threshold():
    assert one_hot_rows(torch.eye(4)) == 4
    assert one_hot_rows(torch.full((3, 3), 1 / 3)) == 0
    assert one_hot_rows(torch.tensor([[0.995, 0.005], [0.98, 0.02]])) == 1


def test_dimension_sweep_refuses_bad_settings():
    with pytest.raises(InputError):
        dimension_sweep(CAT_SENTENCE, dims=(), seeds=(0,))
    with pytest.raises(InputError):
        dimension_sweep(CAT_SENTENCE, dims=(0,), seeds=(0,))
    with pytest.raises(InputError):
        dimension_sweep(CAT_SENTENCE, dims=(3,), seeds=())
