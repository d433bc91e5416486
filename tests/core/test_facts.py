"""The weight-free facts: repeated tokens, order, self-match, and where the context vectors lie."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
from golden import HALF_UNIT, INPUTS, SCORES
from reference import CAT_SENTENCE, inside_convex_hull, recipe_inputs, self_wins
from torch.testing import assert_close

from attention_core import InputError
from attention_core.attention import self_attention
from attention_core.facts import (
    permutation_differences,
    permute,
    project_2d,
    random_permutation,
    repeated_tokens,
    repeats,
    self_matches,
)
from attention_core.pipeline import attend

CAT_TEXT = "the cat and the hat and the bat"
BOOK = torch.tensor(INPUTS)
SHAPES = [(1, 1), (2, 3), (6, 3), (17, 5), (40, 64)]


def _random(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- repeated tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "seed"), [(3, 123), (16, 0), (768, 123)], ids=["d3", "d16", "d768"])
def test_repeated_tokens_in_the_cat_sentence(dim, seed):
    run = attend(CAT_TEXT, dim=dim, seed=seed)
    assert run.tokens == ["the", " cat", " and", " the", " hat", " and", " the", " bat"]
    by_id: dict[int, list[int]] = {}
    for position, token_id in enumerate(run.ids):
        by_id.setdefault(token_id, []).append(position)
    expected = [group for group in by_id.values() if len(group) > 1]
    assert expected == [[2, 5], [3, 6]]  # " and" at 3 and 6, " the" at 4 and 7 (1-based); "the" has another id
    groups = repeated_tokens(run.ids, run.attention.inputs)
    assert groups == expected

    weights, context = run.attention.weights, run.attention.context
    for first, second in groups:
        assert torch.equal(weights[first], weights[second])  # rows: they attend identically
        assert torch.equal(weights[:, first], weights[:, second])  # columns: everyone attends to them equally
        assert torch.equal(context[first], context[second])
    found = repeats(run.ids, run.attention)
    assert [group.positions for group in found] == groups
    assert all((g.row_difference, g.column_difference, g.context_difference) == (0.0, 0.0, 0.0) for g in found)


def test_repeats_measure_a_real_difference():
    run = attend(CAT_TEXT)
    weights = run.attention.weights.clone()
    weights[5, 0] += 3e-7  # pretend the second " and" row came out slightly different
    tampered = dataclasses.replace(run.attention, weights=weights)
    (and_group, the_group) = repeats(run.ids, tampered)
    assert and_group.positions == [2, 5]
    assert and_group.row_difference == pytest.approx(3e-7, rel=0.1)
    assert the_group.row_difference == 0.0 and and_group.context_difference == 0.0


def test_a_table_groups_identical_rows_only():
    inputs = torch.tensor([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [1.0, 2.5], [-0.0, 0.0], [0.0, -0.0], [3.0, 4.0]])
    # Same labels need not mean same rows: with a user table only the numbers decide.
    assert repeated_tokens(None, inputs) == [[0, 2], [1, 6], [4, 5]]
    assert repeated_tokens([5, 5, 5, 5, 6, 7, 8], inputs) == [[0, 2], [1, 6], [4, 5]]
    result = self_attention(inputs)
    for group in repeated_tokens(None, inputs):
        for other in group[1:]:
            assert torch.equal(result.weights[other], result.weights[group[0]])
            assert torch.equal(result.weights[:, other], result.weights[:, group[0]])


def test_no_repeated_tokens():
    run = attend("Your journey starts with one step")
    assert repeated_tokens(run.ids, run.attention.inputs) == []
    assert repeats(run.ids, run.attention) == []


def test_repeated_tokens_checks_the_id_count():
    with pytest.raises(InputError, match="ids has 2 entries but inputs has 6 rows"):
        repeated_tokens([1, 2], BOOK)


# --- order ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_shuffling_the_tokens_only_shuffles_the_weights(shape, seed):
    inputs = _random(shape, seed)
    permutation = random_permutation(shape[0], seed=seed + 100)
    index = torch.tensor(permutation)
    original = self_attention(inputs)
    shuffled = self_attention(permute(inputs, permutation))
    assert torch.equal(shuffled.inputs, inputs[index])
    assert_close(shuffled.scores, original.scores[index][:, index])
    assert_close(shuffled.weights, original.weights[index][:, index])
    assert_close(shuffled.context, original.context[index])
    weights_difference, context_difference = permutation_differences(original, shuffled, permutation)
    assert weights_difference == float((shuffled.weights - original.weights[index][:, index]).abs().max()) < 1e-6
    assert context_difference < 1e-5


def test_every_permutation_of_four_tokens():
    original = self_attention(BOOK[:4])
    for permutation in itertools.permutations(range(4)):
        index = torch.tensor(permutation)
        shuffled = self_attention(permute(BOOK[:4], permutation))
        assert_close(shuffled.weights, original.weights[index][:, index])


@pytest.mark.parametrize(
    "permutation", [[0, 1], [0, 0, 1], [1, 2, 3], [0, 1, 2, 3]], ids=["short", "repeat", "shifted", "long"]
)
def test_permute_refuses_a_non_permutation(permutation):
    with pytest.raises(InputError, match="permutation must hold each of 0..2 exactly once"):
        permute(torch.ones(3, 2), permutation)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 6, 50], ids=lambda c: f"T{c}")
def test_random_permutation_is_a_seeded_shuffle(count):
    for seed in range(10):
        order = random_permutation(count, seed=seed)
        assert sorted(order) == list(range(count))
        assert order == random_permutation(count, seed=seed)  # reproducible
        if count >= 2:
            assert order != list(range(count))  # a shuffle that shows
    if count >= 6:
        assert len({tuple(random_permutation(count, seed=seed)) for seed in range(10)}) == 10


@pytest.mark.parametrize("count", [3, 4, 6], ids=lambda c: f"T{c}")
def test_random_permutation_avoids_the_previous_order(count):
    previous = None
    for clicks in range(20):
        order = random_permutation(count, seed=clicks, avoid=previous)
        assert order != previous and order != list(range(count))
        previous = order


def test_random_permutation_is_torch_randperm_with_a_local_generator():
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(42)).tolist()
    assert expected != list(range(10))
    assert random_permutation(10, seed=42) == expected


def test_random_permutation_leaves_the_global_rng_alone():
    torch.manual_seed(2024)
    saved = torch.get_rng_state()
    expected_next = torch.rand(3)
    torch.set_rng_state(saved)
    random_permutation(20, seed=1)
    random_permutation(2, seed=5)
    assert torch.equal(torch.get_rng_state(), saved)
    assert torch.equal(torch.rand(3), expected_next)


@pytest.mark.parametrize("count", [-1, 2.0, True, "3"], ids=["negative", "float", "bool", "string"])
def test_random_permutation_refuses_a_bad_count(count):
    with pytest.raises(InputError, match="count must be a whole number"):
        random_permutation(count, seed=0)


# --- self-match ------------------------------------------------------------------------------------


def test_self_match_on_the_books_table():
    """2 of 6: the book's tokens are not all of one length, so a longer vector can beat a token's own score."""
    match = self_matches(BOOK @ BOOK.T)
    assert (match.count, match.ties) == self_wins(BOOK @ BOOK.T) == (2, 0)
    assert match.wins.tolist() == [True, True, False, False, False, False]
    assert match.partner.tolist() == [1, 2, 1, 1, 2, 1]  # each row's best other token, 0-based
    assert_close(match.own, torch.tensor([SCORES[i][i] for i in range(6)]), atol=HALF_UNIT, rtol=0.0)


@pytest.mark.parametrize(("dim", "expected"), [(3, 6), (768, 10)], ids=["d3", "d768"])
def test_self_match_on_the_cat_sentence(dim, expected):
    run = attend(CAT_SENTENCE, dim=dim, seed=123)
    scores = (lambda x: x @ x.T)(recipe_inputs(run.ids, dim=dim, seed=123))
    assert self_matches(run.attention.scores).count == self_wins(scores)[0] == expected


def test_self_match_counts_a_tie_with_a_twin_as_a_win():
    run = attend(CAT_TEXT, dim=4, seed=7)
    match = self_matches(run.attention.scores)
    assert (match.count, match.ties) == self_wins(run.attention.scores)
    assert bool(match.tie[2]) and bool(match.tie[5]) and int(match.partner[2]) == 5  # " and" ties with its twin


def test_self_match_of_one_token():
    match = self_matches(torch.tensor([[2.0]]))
    assert (match.count, match.ties) == (1, 0) and float(match.best_other[0]) == float("-inf")


# --- geometry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "seed"),
    [(shape, seed) for shape in SHAPES for seed in (0, 1)] + [((64, 768), 0)],
    ids=[f"T{shape[0]}_d{shape[1]}-seed{seed}" for shape in SHAPES for seed in (0, 1)] + ["T64_d768-seed0"],
)
def test_context_vectors_lie_inside_the_inputs_hull(shape, seed):
    inputs = _random(shape, seed)
    result = self_attention(inputs)
    assert inside_convex_hull(result.context, inputs).all()
    assert inside_convex_hull(inputs, inputs).all()  # the vertices themselves
    # A point far outside, 10 times the largest input, and a point just past one face of the bounding box.
    far = 10 * inputs[inputs.norm(dim=1).argmax()][None]  # (1, d)
    past_box = inputs.mean(dim=0, keepdim=True).clone()
    past_box[0, 0] = inputs[:, 0].max() + 0.01 * (1 + float(inputs.abs().max()))
    outside = inside_convex_hull(torch.cat([far, past_box]), inputs)
    expected_far = bool(far.norm() == 0)  # only the origin is "10 times" itself
    assert outside.tolist() == [expected_far, False]


def test_convex_hull_on_a_triangle_by_hand():
    triangle = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    points = torch.tensor([[0.2, 0.2], [0.5, 0.5], [0.0, 0.0], [0.6, 0.6], [-0.01, 0.5], [0.5, -0.01], [1.1, 0.0]])
    assert inside_convex_hull(points, triangle).tolist() == [True, True, True, False, False, False, False]


def test_project_2d_is_an_exact_rotation_for_d_2():
    inputs = _random((9, 2), seed=4)
    context = self_attention(inputs).context
    inputs_2d, context_2d, explained = project_2d(inputs, context)
    both = torch.cat([inputs, context]).double()
    both_2d = torch.cat([inputs_2d, context_2d])
    assert_close(torch.cdist(both_2d, both_2d), torch.cdist(both, both), atol=1e-12, rtol=0.0)
    assert explained[0] + explained[1] == pytest.approx(1.0, abs=1e-12)
    # The map is x -> (x - mean) R with R a rotation (determinant +1), the same for the context vectors.
    rotation = torch.linalg.lstsq(both - inputs.double().mean(dim=0), both_2d).solution
    assert_close(rotation.T @ rotation, torch.eye(2, dtype=torch.float64), atol=1e-12, rtol=0.0)
    assert float(torch.linalg.det(rotation)) == pytest.approx(1.0, abs=1e-12)


def test_project_2d_pads_d_1_with_zeros():
    inputs = torch.tensor([[1.0], [3.0], [-2.0]])
    context = self_attention(inputs).context
    inputs_2d, context_2d, explained = project_2d(inputs, context)
    mean = inputs.double().mean()
    assert_close(inputs_2d[:, 0].abs(), (inputs.double()[:, 0] - mean).abs())
    assert_close(context_2d[:, 0].abs(), (context.double()[:, 0] - mean).abs())
    assert bool((inputs_2d[:, 1] == 0).all()) and bool((context_2d[:, 1] == 0).all())
    assert explained == (1.0, 0.0)


@pytest.mark.parametrize("shape", [(6, 4), (17, 5), (40, 64), (5, 200)], ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_project_2d_matches_the_covariance_eigenvectors(shape):
    inputs = _random(shape, seed=8)
    context = self_attention(inputs).context
    inputs_2d, context_2d, explained = project_2d(inputs, context)
    assert inputs_2d.shape == context_2d.shape == (shape[0], 2)
    # Independent: numpy's symmetric eigendecomposition of the inputs' scatter matrix.
    x = inputs.double().numpy()
    centred = x - x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    top = eigenvectors[:, ::-1][:, :2]  # (d, 2), largest first
    assert explained[0] == pytest.approx(eigenvalues[-1] / eigenvalues.sum(), rel=1e-9)
    assert explained[1] == pytest.approx(eigenvalues[-2] / eigenvalues.sum(), rel=1e-9)
    for k in range(2):  # eigenvectors have no sign: compare up to ±
        sign = math.copysign(1.0, float(np.dot(inputs_2d[:, k].numpy(), centred @ top[:, k])))
        assert_close(inputs_2d[:, k], torch.from_numpy(sign * centred @ top[:, k]), atol=1e-9, rtol=0.0)
        context_expected = (context.double().numpy() - x.mean(axis=0)) @ top[:, k]
        assert_close(context_2d[:, k], torch.from_numpy(sign * context_expected), atol=1e-9, rtol=0.0)


def test_project_2d_without_variance():
    inputs = torch.ones(3, 5)
    inputs_2d, context_2d, explained = project_2d(inputs, self_attention(inputs).context)
    assert torch.equal(inputs_2d, torch.zeros(3, 2, dtype=torch.float64))
    assert_close(context_2d, torch.zeros(3, 2, dtype=torch.float64))
    assert explained == (0.0, 0.0)


def test_project_2d_is_deterministic_in_sign():
    inputs = _random((10, 6), seed=1)
    first = project_2d(inputs, inputs)[0]
    assert torch.equal(first, project_2d(inputs.clone(), inputs.clone())[0])
    # The basis is fixed by its loadings (largest entry positive), so mirrored data gives mirrored coordinates.
    assert_close(project_2d(-inputs, -inputs)[0], -first, atol=1e-12, rtol=0.0)
