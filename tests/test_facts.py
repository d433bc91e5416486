"""The weight-free facts: repeated tokens, order, and where the context vectors lie."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from attention_core.attention import self_attention
from attention_core.facts import (
    inside_convex_hull,
    permute,
    project_2d,
    random_permutation,
    repeated_tokens,
    repeated_tokens_markdown,
    shuffle_markdown,
)
from attention_core.pipeline import attend

CAT_TEXT = "the cat and the hat and the bat"
BOOK = torch.tensor(
    [
        [0.43, 0.15, 0.89],
        [0.55, 0.87, 0.66],
        [0.57, 0.85, 0.64],
        [0.22, 0.58, 0.33],
        [0.77, 0.25, 0.10],
        [0.05, 0.80, 0.55],
    ]
)
SHAPES = [(1, 1), (2, 3), (6, 3), (17, 5), (40, 64)]


def _random(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- repeated tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "seed"), [(3, 123), (16, 0), (768, 7)], ids=["d3", "d16", "d768"])
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
    text = repeated_tokens_markdown(run.tokens, groups, run.attention)
    assert "<code>␣the</code> | 4, 7 |" in text and "<code>␣and</code> | 3, 6 |" in text
    assert "exactly equal, bit for bit" in text


def test_repeated_tokens_markdown_reports_a_real_difference():
    run = attend(CAT_TEXT)
    groups = repeated_tokens(run.ids, run.attention.inputs)
    weights = run.attention.weights.clone()
    weights[5, 0] += 3e-7  # pretend the second " and" row came out slightly different
    tampered = type(run.attention)(
        inputs=run.attention.inputs, scores=run.attention.scores, weights=weights, context=run.attention.context
    )
    text = repeated_tokens_markdown(run.tokens, groups, tampered)
    difference = float((weights[5] - weights[2]).abs().max())
    assert f"the largest difference is {difference:.2e}" in text
    assert "bit for bit" not in text


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
    assert "No repeated tokens" in repeated_tokens_markdown(run.tokens, [], run.attention)


def test_repeated_tokens_checks_the_id_count():
    with pytest.raises(ValueError, match="ids has 2 entries but inputs has 6 rows"):
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


def test_every_permutation_of_four_tokens():
    original = self_attention(BOOK[:4])
    for permutation in itertools.permutations(range(4)):
        index = torch.tensor(permutation)
        shuffled = self_attention(permute(BOOK[:4], permutation))
        assert_close(shuffled.weights, original.weights[index][:, index])


def test_shuffle_markdown_reports_the_real_difference():
    tokens = ["Your", " journey", " starts", " with", " one", " step"]
    permutation = [5, 4, 3, 2, 1, 0]
    original = self_attention(BOOK)
    shuffled = self_attention(BOOK.flip(0))
    text = shuffle_markdown(tokens, permutation, original, shuffled)
    difference = float((shuffled.weights - original.weights.flip(0).flip(1)).abs().max())
    expected = "0 (exactly equal)" if difference == 0 else f"{difference:.2e} (float32 rounding)"
    assert f"with rows and columns reordered is {expected}" in text
    assert "| 1 | <code>␣step</code> | 6 |" in text
    assert "word order carries no information" in text


@pytest.mark.parametrize("permutation", [[0, 1], [0, 0, 1], [1, 2, 3], [0, 1, 2, 3]], ids=["short", "repeat", "shifted", "long"])
def test_permute_refuses_a_non_permutation(permutation):
    with pytest.raises(ValueError, match="permutation must hold each of 0..2 exactly once"):
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
    with pytest.raises(ValueError, match="count must be a whole number"):
        random_permutation(count, seed=0)


# --- geometry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", SHAPES + [(64, 768)], ids=lambda s: f"T{s[0]}_d{s[1]}")
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


def test_convex_hull_checks_the_shapes():
    with pytest.raises(ValueError, match=r"points must be a \(P, d\) tensor with d = 3"):
        inside_convex_hull(torch.ones(2, 2), BOOK)


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


@pytest.mark.parametrize("shape", [(6, 4), (17, 5), (40, 64), (3, 768)], ids=lambda s: f"T{s[0]}_d{s[1]}")
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
