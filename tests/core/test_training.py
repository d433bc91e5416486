"""Training W_query and W_key on one (query, key) pair: against a hand-written float64 Adam, on the lecture's cat
sentence, W = I against weight-free attention, determinism, and every refusal."""

from __future__ import annotations

import math

import pytest
import torch
from reference import CAT_SENTENCE, book_attention, recipe_inputs
from torch.testing import assert_close

from attention_core import (
    InputError,
    checkpoint_steps,
    query_key_weights,
    self_attention,
    tokenize,
    train_query_key,
)
from attention_core.training import initial_projections, query_key_scores

CAT = tokenize(CAT_SENTENCE)
CAT_X = recipe_inputs(CAT.ids, dim=3, seed=123)  # the app's seed-123, d = 3 table: (10, 3) float32
WARM, MAT = CAT.tokens.index(" warm"), CAT.tokens.index(" mat")


def _random(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def adam_by_hand(x: torch.Tensor, query: int, key: int, w_query: torch.Tensor, w_key: torch.Tensor, steps: int, rate):
    """The loss after each of ``steps`` Adam steps, with the gradient and Adam written out in float64 (no autograd,
    no torch.optim): ω = X W_k W_qᵀ x_q / √d_k, ∂loss/∂ω = α − onehot(key)."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    params = [w_query.clone(), w_key.clone()]
    moments = [torch.zeros_like(p) for p in params]
    squares = [torch.zeros_like(p) for p in params]
    root = math.sqrt(w_query.shape[1])
    losses = []
    for step in range(steps + 1):
        w_q, w_k = params
        projected = x[query] @ w_q  # (d_k,)
        pulled = w_k @ projected  # (d,)
        scores = x @ pulled / root  # (T,)
        weights = torch.softmax(scores, dim=0)
        losses.append(-math.log(float(weights[key])))
        if step == steps:
            return losses
        grad_scores = weights.clone()
        grad_scores[key] -= 1.0  # (T,)
        grad_pulled = x.T @ grad_scores / root  # (d,)
        grad_w_key = torch.outer(grad_pulled, projected)  # (d, d_k)
        grad_w_query = torch.outer(x[query], w_k.T @ grad_pulled)  # (d, d_k)
        for i, grad in enumerate((grad_w_query, grad_w_key)):
            moments[i] = beta1 * moments[i] + (1 - beta1) * grad
            squares[i] = beta2 * squares[i] + (1 - beta2) * grad * grad
            m_hat = moments[i] / (1 - beta1 ** (step + 1))
            v_hat = squares[i] / (1 - beta2 ** (step + 1))
            params[i] = params[i] - rate * m_hat / (v_hat.sqrt() + eps)
    return losses


# --- the lecture's example ------------------------------------------------------------------------------


def test_warm_learns_to_attend_to_mat_on_the_apps_seed_123_table():
    result = train_query_key(CAT_X, WARM, MAT, steps=100)
    before, after = float(result.weights_before[MAT]), float(result.weights_after[MAT])
    assert after >= 0.8
    assert before < 0.2  # weight-free (at τ = √3), `warm` gives `mat` 0.17
    assert int(result.weights_after.argmax()) == MAT


def test_the_loss_goes_down_and_is_minus_log_of_the_weight():
    result = train_query_key(CAT_X, WARM, MAT, steps=100)
    loss = result.loss.double()
    assert loss.shape == (101,)
    assert loss[-1] < 0.01 * loss[0]
    assert loss[10] < loss[0]  # the experiment: most of the way after 10 steps
    for step, row in zip(result.checkpoint_steps, result.checkpoint_weights):
        assert_close(float(loss[step]), -math.log(float(row[MAT])), atol=1e-5, rtol=1e-5)


def test_the_learned_matrices_give_the_weights_after():
    result = train_query_key(CAT_X, WARM, MAT, steps=30)
    again = query_key_weights(CAT_X.double(), WARM, result.w_query.double(), result.w_key.double())
    assert_close(again, result.weights_after.double(), atol=1e-5, rtol=0.0)  # the matrices are float32 copies


@pytest.mark.parametrize(
    ("init", "dim", "key_dim"),
    [("identity", 4, 3), ("random", 4, 3), ("identity", 72, 64), ("random", 64, 80)],
    ids=["identity", "random", "identity-fused", "random-fused"],  # from 4096 entries, Adam's fused kernel
)
def test_training_follows_adam_written_out_by_hand(init, dim, key_dim):
    x = _random((7, dim), seed=5)
    w_query, w_key = initial_projections(dim, key_dim, init=init, seed=9)
    expected = adam_by_hand(x, 2, 6, w_query, w_key, steps=20, rate=0.05)
    result = train_query_key(x, 2, 6, steps=20, key_dim=key_dim, learning_rate=0.05, init=init, seed=9)
    assert_close(result.loss.double(), torch.tensor(expected, dtype=torch.float64), rtol=1e-6, atol=1e-7)


# --- W = I is this chapter -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "dim"), [(10, 3), (6, 16), (40, 768)], ids=["10x3", "6x16", "40x768"])
def test_identity_projections_reproduce_self_attention_at_root_d(count, dim):
    x = _random((count, dim), seed=count)
    eye = torch.eye(dim, dtype=torch.float64)
    _, reference, _ = book_attention(x, tau=math.sqrt(dim))  # float64: the book's lines
    for query in (0, count - 1):
        assert_close(query_key_weights(x, query, eye, eye), reference[query], atol=1e-12, rtol=0.0)


def test_before_training_is_the_pages_row_at_tau_root_d():
    result = train_query_key(CAT_X, WARM, MAT, steps=1)
    page_row = self_attention(CAT_X, temperature=math.sqrt(3)).weights[WARM]  # float32, as the page computes it
    assert_close(result.weights_before, page_row, atol=1e-6, rtol=0.0)


def test_scores_are_the_projected_dot_products():
    x, w_query, w_key = _random((5, 4), 1), _random((4, 2), 2), _random((4, 2), 3)
    direct = (x[3] @ w_query) @ (x @ w_key).T / math.sqrt(2)  # (d_k,) @ (d_k, T) -> (T,)
    assert_close(query_key_scores(x, 3, w_query, w_key), direct, atol=1e-12, rtol=1e-12)


# --- determinism and shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["identity", "random"])
def test_two_calls_give_the_same_numbers(init):
    first, second = (train_query_key(CAT_X, WARM, MAT, steps=40, init=init, seed=7) for _ in range(2))
    for name in ("loss", "weights_before", "weights_after", "w_query", "w_key", "checkpoint_weights"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    assert first.checkpoint_steps == second.checkpoint_steps


def test_the_random_init_depends_on_the_seed_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    one = train_query_key(CAT_X, WARM, MAT, steps=5, init="random", seed=1)
    two = train_query_key(CAT_X, WARM, MAT, steps=5, init="random", seed=2)
    assert not torch.equal(one.weights_before, two.weights_before)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_shapes_dtypes_and_checkpoints():
    result = train_query_key(CAT_X, 0, 4, steps=100, key_dim=2)
    assert (result.query, result.key, result.steps, result.key_dim) == (0, 4, 100, 2)
    assert result.w_query.shape == result.w_key.shape == (3, 2)
    assert result.checkpoint_steps == (0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100)
    assert result.checkpoint_weights.shape == (11, 10)
    for tensor in (result.loss, result.weights_before, result.w_query, result.checkpoint_weights):
        assert tensor.dtype == torch.float32
    assert_close(result.checkpoint_weights.sum(dim=1), torch.ones(11), atol=1e-6, rtol=0.0)
    assert torch.equal(result.checkpoint_weights[0], result.weights_before)
    assert torch.equal(result.checkpoint_weights[-1], result.weights_after)


@pytest.mark.parametrize(("steps", "expected"), [(1, (0, 1)), (3, (0, 1, 2, 3)), (500, None)])
def test_checkpoint_steps_start_at_0_end_at_steps_and_increase(steps, expected):
    kept = checkpoint_steps(steps)
    assert kept[0] == 0 and kept[-1] == steps and list(kept) == sorted(set(kept)) and len(kept) <= 11
    if expected is not None:
        assert kept == expected


def test_training_works_under_no_grad():
    with torch.no_grad():
        result = train_query_key(CAT_X, WARM, MAT, steps=20)
    assert float(result.loss[-1]) < float(result.loss[0])


def test_a_query_can_learn_to_attend_to_itself():
    result = train_query_key(CAT_X, MAT, MAT, steps=50)
    assert float(result.weights_after[MAT]) > float(result.weights_before[MAT])


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": 10}, r"The query index is 10; it must be between 0 and 9 \(tokens 1 to 10"),
        ({"key": -1}, r"The key index is -1; it must be between 0 and 9"),
        ({"key": "mat"}, r"The key must be a whole number, not 'mat'"),
        ({"steps": 0}, r"number of training steps is 0; it must be between 1 and 500"),
        ({"steps": 501}, r"number of training steps is 501; it must be between 1 and 500"),
        ({"steps": 2.5}, r"number of training steps must be a whole number"),
        ({"key_dim": 0}, r"projection width d_k is 0; it must be between 1 and 768"),
        ({"key_dim": 769}, r"projection width d_k is 769; it must be between 1 and 768"),
        ({"learning_rate": 0.0}, r"The learning rate is 0; it must be a number between 0.0001 and 1"),
        ({"learning_rate": float("nan")}, r"The learning rate is nan"),
        ({"learning_rate": True}, r"The learning rate must be a number between"),
        ({"init": "zeros"}, r"The init is 'zeros'; choose one of identity, random"),
        ({"seed": -1}, r"The seed is -1; it must be between 0 and"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_refusals_say_what_is_allowed(arguments, message):
    call = {"query": WARM, "key": MAT, **arguments}
    with pytest.raises(InputError, match=message):
        train_query_key(CAT_X, call.pop("query"), call.pop("key"), **call)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.ones(3), r"inputs must be a \(T, d\) table, one row per token, but its shape is \(3,\)"),
        (torch.tensor([[1.0, float("inf")], [0.0, 1.0]]), r"inputs\[0, 1\] is inf; every entry must be a finite"),
    ],
    ids=["1-d", "inf"],
)
def test_bad_inputs_are_refused(inputs, message):
    with pytest.raises(InputError, match=message):
        train_query_key(inputs, 0, 1)


def test_a_table_too_large_to_train_on_is_refused_not_returned_as_nan():
    huge = torch.tensor([[1e200, 0.0], [0.0, 1e200]], dtype=torch.float64)  # scores 1e400: inf in float64
    with pytest.raises(InputError, match="Training diverged"):
        train_query_key(huge, 0, 1, steps=3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 0), ("10", 9), (10.0, 9)],
)
def test_check_position_counts_from_1(value, expected):
    from attention_core import check_position

    assert check_position(value, "key", 10) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, r"The key is token 0; the text has 10 tokens, so the key must be between 1 and 10 \(counted from 1\)"),
        (11, r"The key is token 11; the text has 10 tokens"),
        ("mat", r"The key must be a whole number, not 'mat'"),
    ],
)
def test_check_position_names_the_token(value, message):
    from attention_core import check_position

    with pytest.raises(InputError, match=message):
        check_position(value, "key", 10)
