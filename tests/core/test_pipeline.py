"""attend(): from a sentence (and optionally a table) to checked self-attention.

Every refusal with its message is in test_bad_input.py; here are the runs, and the pipeline's own decisions.
"""

from __future__ import annotations

import pytest
import torch
from golden import CONTEXT, HALF_UNIT, INPUTS, PIECES, SENTENCE, SPACE_IDS, WEIGHTS, WORDS
from reference import book_attention, recipe_inputs
from torch.testing import assert_close

from attention_core import InputError, attend, gpt2_encoding

BOOK_CSV = "\n".join(", ".join(str(v) for v in row) for row in INPUTS)
BOOK_LABELED = "\n".join(" ".join([word] + [str(v) for v in row]) for word, row in zip(WORDS, INPUTS))


@pytest.mark.parametrize(("dim", "seed"), [(3, 123), (1, 0), (768, 123)], ids=["defaults", "dim1", "dim768"])
def test_random_inputs_follow_the_recipe(dim, seed):
    run = attend(SENTENCE, dim=dim, seed=seed)
    ids = gpt2_encoding().encode(SENTENCE)
    assert run.ids == ids and run.tokens == PIECES
    assert (run.source, run.dim, run.seed, run.temperature) == ("random", dim, seed, 1.0)
    inputs = recipe_inputs(ids, dim=dim, seed=seed)
    assert torch.equal(run.attention.inputs, inputs)
    _, weights, context = book_attention(inputs)
    assert_close(run.attention.weights, weights)
    assert_close(run.attention.context, context)


def test_defaults_are_the_book_settings():
    run = attend(SENTENCE)
    assert (run.dim, run.seed) == (3, 123)


def test_settings_given_as_text_are_accepted():
    run = attend(SENTENCE, dim="4", seed="7", temperature="2")
    assert (run.dim, run.seed, run.temperature) == (4, 7, 2.0)
    assert run.attention.inputs.shape == (6, 4)


def test_temperature_is_the_runs():
    run = attend(SENTENCE, temperature=0.5)
    assert run.temperature == run.attention.temperature == 0.5
    _, weights, _ = book_attention(run.attention.inputs, 0.5)
    assert_close(run.attention.weights, weights)


def test_table_replaces_the_embeddings():
    run = attend(SENTENCE, table=BOOK_CSV)
    assert (run.source, run.seed, run.dim) == ("table", None, 3)
    assert run.ids == gpt2_encoding().encode(SENTENCE)
    assert torch.equal(run.attention.inputs, torch.tensor(INPUTS))
    assert_close(run.attention.weights, torch.tensor(WEIGHTS), atol=HALF_UNIT, rtol=0.0)
    assert_close(run.attention.context, torch.tensor(CONTEXT), atol=HALF_UNIT, rtol=0.0)


def test_a_table_with_the_wrong_row_count_lists_the_tokens_visibly():
    with pytest.raises(InputError) as caught:
        attend(SENTENCE, table="\n".join(BOOK_CSV.splitlines()[:5]))
    message = str(caught.value)
    assert "5 rows" in message and "6 tokens" in message
    assert "Your, ␣journey, ␣starts" in message


@pytest.mark.parametrize("text", ["", None], ids=["empty", "none"])
def test_labeled_table_without_text_uses_its_labels(text):
    run = attend(text, table=BOOK_LABELED)
    assert (run.tokens, run.ids, run.source) == (WORDS, None, "table")
    assert_close(run.attention.weights, torch.tensor(WEIGHTS), atol=HALF_UNIT, rtol=0.0)


def test_unlabeled_table_without_text_is_refused():
    with pytest.raises(InputError, match="no label column"):
        attend("", table=BOOK_CSV)


def test_huge_table_entries_are_refused_before_softmax():
    with pytest.raises(InputError, match="overflow") as caught:
        attend("a b", table="1e30, 1\n1, 1")
    assert "1e+60" in str(caught.value)  # the largest score it would have been


def test_large_but_safe_entries_work():
    run = attend("a b", table="1e18, 1\n1, 1")  # scores ≈ 1e36 < float32 max
    assert torch.isfinite(run.attention.weights).all()


def test_the_token_limit_is_inclusive():
    run = attend("a" + " a" * 255)
    assert run.attention.weights.shape == (256, 256)
    with pytest.raises(InputError, match="300 tokens; the limit is 256"):
        attend("a" + " a" * 299)


def test_a_single_space_is_a_run():
    """The book's exercise encodes " " as [220]; only "" has no token."""
    run = attend(" ")
    assert run.ids == SPACE_IDS and run.tokens == [" "]
    assert run.attention.weights.tolist() == [[1.0]]


@pytest.mark.parametrize(
    "text",
    [
        "Hello <|endoftext|> world",
        "a\x00b\x07c",
        "zero\u200bwidth",
        "\u200fשלום עולם",
        "tab\there\r\nnewline",
        "I love 🦀 and 東京",
    ],
    ids=["endoftext", "control", "zero_width", "rtl", "whitespace_kinds", "emoji_cjk"],
)
def test_unusual_text_works(text):
    run = attend(text)
    assert run.ids == gpt2_encoding().encode(text, allowed_special={"<|endoftext|>"})
    assert len(run.tokens) == len(run.ids)
    assert torch.isfinite(run.attention.weights).all()
    assert_close(run.attention.weights.sum(dim=-1), torch.ones(len(run.ids)))
