"""The "Watch the weights learn" panel's handlers, without a server: the default pair, following a new run, Train,
the scrubber, and refusals as messages."""

from __future__ import annotations

import dataclasses

import gradio as gr
import pytest
import torch
from reference import CAT_SENTENCE

import attention_core as ac
from web import training_panel as panel

CAT = ac.attend(CAT_SENTENCE, dim=3, seed=123)
BOOK = ac.attend("Your journey starts with one step", dim=3, seed=123)


def test_the_default_pair_is_warm_and_mat():
    assert panel.default_pair(CAT) == (9, 5)


def test_without_warm_and_mat_the_last_token_and_its_weakest_key():
    query, key = panel.default_pair(BOOK)
    assert query == 5
    assert key == int(BOOK.attention.weights[5].argmin())
    assert float(BOOK.attention.weights[5, key]) == float(BOOK.attention.weights[5].min())


def test_a_one_token_run_trains_the_token_on_itself():
    assert panel.default_pair(ac.attend("Hi", dim=3, seed=1)) == (0, 0)


@pytest.fixture(scope="module")
def trained_cat() -> tuple:
    """The panel's outputs after Train on warm -> mat, 100 steps (figures are costly: built once)."""
    return panel.train_pair(CAT, 9, 5, 100)


def test_train_shows_every_figure_at_the_last_checkpoint(trained_cat):
    summary, loss, scrubber, row, matrices, trained = trained_cat
    assert "went from **0.1672** to **1.0000**" in summary
    assert 'id="fig-train-loss"' in loss and "diamond marks step 100" in loss
    assert 'id="fig-train-row"' in row and "after 100 of 100 steps" in row
    assert 'id="fig-train-matrices"' in matrices
    assert scrubber.maximum == 10 and scrubber.value == 10 and scrubber.interactive
    assert trained.tokens == CAT.tokens and trained.result.checkpoint_steps[-1] == 100


def test_the_scrubber_redraws_the_loss_and_the_row_at_a_checkpoint(trained_cat):
    trained = trained_cat[-1]
    loss, row = panel.scrub(trained, 3)
    assert "diamond marks step 9" in loss and "after 9 of 100 steps" in row
    assert isinstance(panel.scrub(None, 3), type(gr.skip()))
    with pytest.raises(gr.Error, match="checkpoint index is 11"):
        panel.scrub(trained, 11)


def test_a_new_run_starts_over_and_a_new_tau_keeps_the_training(trained_cat):
    trained = trained_cat[-1]
    query, key, *results = panel.follow_run(BOOK, 9, 3, trained)
    assert (query.value, key.value) == panel.default_pair(BOOK)
    assert "Press **Train**" in results[0] and results[-1] is None
    same_inputs = dataclasses.replace(CAT, attention=ac.self_attention(CAT.attention.inputs, temperature=2.0))
    query, key, *results = panel.follow_run(same_inputs, 9, 3, trained)
    assert (query.value, key.value) == (9, 3)
    assert all(isinstance(result, type(gr.skip())) for result in results)


def test_other_embeddings_of_the_same_tokens_start_over(trained_cat):
    trained = trained_cat[-1]
    other_seed = ac.attend(CAT_SENTENCE, dim=3, seed=7)
    assert not torch.equal(other_seed.attention.inputs, CAT.attention.inputs)
    assert panel.follow_run(other_seed, 9, 5, trained)[-1] is None


def test_a_refused_run_empties_the_panel():
    query, key, *results = panel.follow_run(None, 9, 5, None)
    assert query.choices == [] and query.value is None and results[-1] is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((None, 9, 5, 100), "There is no run to show"),
        ((CAT, None, 5, 100), "Choose the query token first"),
        ((CAT, 9, 10, 100), "The key index is 10"),
        ((CAT, 9, 5, 501), "training steps is 501; it must be between 1 and 500"),
    ],
    ids=["no-run", "no-query", "key", "steps"],
)
def test_train_refuses_with_a_message(arguments, message):
    with pytest.raises(gr.Error, match=message):
        panel.train_pair(*arguments)
