"""The code the page shows is the code that runs, and the fixed texts claim nothing the runs contradict."""

from __future__ import annotations

import pytest
import torch
from golden import CONTEXT, HALF_UNIT, INPUTS, WEIGHTS

from attention_core import self_attention, self_attention_loops
from attention_core.views import lessons
from attention_core.views.lessons import BOOK_MATRIX_CODE, WHY_TRAINABLE, code_of_both, function_source


def _run_book_lines(inputs: torch.Tensor) -> dict:
    namespace = {"torch": torch, "inputs": inputs}
    exec(compile(BOOK_MATRIX_CODE, "<book matrix code>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("which", ["book", "random"])
def test_the_books_three_lines_give_self_attentions_numbers(which):
    inputs = torch.tensor(INPUTS) if which == "book" else torch.randn(9, 5, generator=torch.Generator().manual_seed(2))
    namespace = _run_book_lines(inputs)
    ours = self_attention(inputs)
    assert torch.equal(namespace["attn_scores"], ours.scores)
    assert torch.equal(namespace["attn_weights"], ours.weights)
    assert torch.equal(namespace["all_context_vecs"], ours.context)
    if which == "book":
        torch.testing.assert_close(namespace["attn_weights"], torch.tensor(WEIGHTS), atol=HALF_UNIT, rtol=0.0)
        torch.testing.assert_close(namespace["all_context_vecs"], torch.tensor(CONTEXT), atol=HALF_UNIT, rtol=0.0)


def test_the_loop_code_shown_is_the_function_that_runs():
    loops_code, matrix_code = code_of_both()
    assert matrix_code == BOOK_MATRIX_CODE
    namespace = {
        "torch": torch,
        "SelfAttention": type(self_attention(torch.ones(1, 1))),
        "check_inputs": lambda inputs: inputs,
    }
    exec(compile("from __future__ import annotations\n" + loops_code, "<loops>", "exec"), namespace)
    inputs = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    shown, library = namespace["self_attention_loops"](inputs), self_attention_loops(inputs)
    for name in ("scores", "weights", "context"):
        assert torch.equal(getattr(shown, name), getattr(library, name)), name
    # The chapter's loops: torch.dot per pair and torch.softmax per row, with no max subtracted by hand.
    assert "torch.dot(x_i, x_j)" in loops_code and "torch.softmax(scores[i], dim=0)" in loops_code
    assert "amax" not in loops_code and ".max(" not in loops_code and "- scores" not in loops_code


def test_function_source_names_a_missing_function():
    with pytest.raises(LookupError, match="no_such_function is not a function in attention.py"):
        function_source("attention", "no_such_function")


def test_why_trainable_weights_claims_only_what_holds():
    """Issue 13, items 1 and 4: no "usually itself" or "bright diagonal" (2 of 6 on the book's table), and no claim
    that trainable weights separate repeated tokens or see order."""
    text = " ".join(WHY_TRAINABLE.split())
    for claim in ("usually itself", "bright diagonal", "usually the token itself"):
        assert claim not in text
    assert "identical inputs give identical queries, keys and values" in text
    assert "positional embeddings" in text and "mask" in text
    assert "`warm`" in text  # the lecture's own query


def test_the_hull_text_names_no_figure_the_notebook_lacks():
    """Issue 23, Low 4: ch03.ipynb has no 3-D figure of the inputs and context vectors."""
    assert "like the book" not in lessons.CONVEX_HULL and "3-D" in lessons.CONVEX_HULL


def test_why_trainable_claims_asymmetry_of_scores_only_and_names_the_mask():
    """Issue 23, Medium 2 and Low 1: weights are asymmetric already; positions or the causal mask tell copies apart."""
    text = " ".join(lessons.WHY_TRAINABLE.split())
    assert "The scores are then no longer symmetric" in text
    assert "The weights are not symmetric even without projections" in text
    assert "without `mat` looking back" not in text
    assert "positional embeddings (chapter 2), or the causal mask of section 3.5" in text
