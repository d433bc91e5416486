"""Views of a training: the /train JSON, the figures' descriptions against the result's own numbers, the texts."""

from __future__ import annotations

import math
import re

import pytest
import torch
from reference import CAT_SENTENCE, recipe_inputs

import attention_core as ac
from attention_core.views import figures, lessons
from attention_core.views import training as view

TOKENS = ac.tokenize(CAT_SENTENCE).tokens
X = recipe_inputs(ac.tokenize(CAT_SENTENCE).ids, dim=3, seed=123)
RESULT = ac.train_query_key(X, 9, 5, steps=100)


def test_the_json_counts_from_1_and_round_trips_float32():
    answer = view.training_json(TOKENS, RESULT)
    assert (answer["query"], answer["key"], answer["steps"]) == (10, 6, 100)
    assert torch.equal(torch.tensor(answer["loss"], dtype=torch.float32), RESULT.loss)
    assert torch.equal(torch.tensor(answer["w_query"], dtype=torch.float32), RESULT.w_query)
    assert answer["checkpoint_steps"] == list(RESULT.checkpoint_steps)
    assert len(answer["checkpoint_weights"]) == len(answer["checkpoint_steps"])


def test_the_summary_quotes_the_results_numbers_at_4_decimals():
    text = view.summary_markdown(TOKENS, RESULT)
    before, after = float(RESULT.weights_before[5]), float(RESULT.weights_after[5])
    assert f"went from **{before:.4f}** to **{after:.4f}**" in text
    assert "<code>␣warm</code> (token 10) → <code>␣mat</code> (token 6)" in text
    assert "It is now the query's largest weight." in text
    assert f"from {float(RESULT.loss[0]):.4f} to " in text


def test_a_short_training_says_when_the_key_is_not_yet_the_largest():
    result = ac.train_query_key(X, 9, 0, steps=1)
    assert "train for more steps" in view.summary_markdown(TOKENS, result)


def test_the_loss_description_marks_the_checkpoint():
    text = view.loss_description(TOKENS, RESULT, checkpoint=3)
    assert text.startswith("Line: the loss −log α(␣warm → ␣mat) after each of 100 Adam steps")
    assert f"the diamond marks step 9, where it is {float(RESULT.loss[9]):.4f}" in text


def test_the_row_description_gives_the_keys_weight_before_and_at_the_checkpoint():
    text = view.row_description(TOKENS, RESULT, 3)
    at = float(RESULT.checkpoint_weights[3, 5])
    assert f"gets {float(RESULT.weights_before[5]):.4f} before and {at:.4f} after 9 steps" in text


@pytest.mark.parametrize(("dim", "partial"), [(3, False), (20, True)], ids=["whole", "block"])
def test_the_matrices_description_measures_how_far_training_moved_them(dim, partial):
    x = torch.randn(5, dim, generator=torch.Generator().manual_seed(dim))
    result = ac.train_query_key(x, 4, 0, steps=10)
    text = view.matrices_description(result)
    moved = float((result.w_query.double() - torch.eye(dim, dtype=torch.float64)).abs().max())
    assert f"W_query's entries moved by at most {moved:.4f}" in text
    assert ("top-left 16 × 16 block" in text) is partial


@pytest.mark.parametrize("count", [10, 60], ids=["bars", "lines"])
def test_the_figures_build_as_named_svg(count):
    x = torch.randn(count, 4, generator=torch.Generator().manual_seed(count), dtype=torch.float64)
    tokens = [f" t{i}" for i in range(count)]
    result = ac.train_query_key(x, count - 1, 2, steps=20)
    for name, figure, title in (
        ("loss", view.loss_figure(tokens, result, checkpoint=2), view.loss_title(tokens, result)),
        ("row", view.row_figure(tokens, result, 2), view.row_title(tokens, result, 2)),
        ("w", view.matrices_figure(result), view.matrices_title(result)),
    ):
        markup = figures.figure_markup(figure, name=f"t-{name}", title=title, description="d")
        assert markup.startswith('<figure class="fig" id="fig-t-') and "<svg" in markup
        assert re.search(r'aria-label="[^"]+"', markup)


def test_the_explanation_is_honest_about_what_is_trained():
    text = " ".join(lessons.TRAINING_EXPLANATION.split())
    assert "one pair on one sentence" in text and "billions of tokens" in text
    assert "W_query = W_key = I" in text and "τ = √d" in text
    assert "Section 3.4" in text and "W_value" in text


def test_identity_is_the_chapter_at_root_d_as_the_intro_says():
    steps = ac.train_query_key(X, 9, 5, steps=1)
    page = ac.self_attention(X, temperature=math.sqrt(3)).weights[9]
    torch.testing.assert_close(steps.weights_before, page, atol=1e-6, rtol=0.0)
    assert "W_query = W_key = I" in lessons.TRAINING_INTRO and "τ = √d" in lessons.TRAINING_INTRO
