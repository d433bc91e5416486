"""attend(): from a sentence (and optionally a table) to checked self-attention."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from attention_core import InputError, attend, gpt2_encoding, self_attention

SENTENCE = "Your journey starts with one step"
BOOK = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
WORDS = ["Your", "journey", "starts", "with", "one", "step"]
BOOK_WEIGHTS = [
    [0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
    [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
    [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
    [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
    [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
    [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896],
]
BOOK_CSV = "\n".join(", ".join(str(v) for v in row) for row in BOOK)
BOOK_LABELED = "\n".join(" ".join([word] + [str(v) for v in row]) for word, row in zip(WORDS, BOOK))


def _recipe(token_ids: list[int], *, dim: int, seed: int) -> torch.Tensor:
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight[token_ids].detach()
    finally:
        torch.set_rng_state(saved)


@pytest.mark.parametrize(("dim", "seed"), [(3, 123), (1, 0), (768, 42)], ids=["defaults", "dim1", "dim768"])
def test_random_inputs_follow_the_recipe(dim, seed):
    run = attend(SENTENCE, dim=dim, seed=seed)
    ids = gpt2_encoding().encode(SENTENCE)
    assert run.ids == ids
    assert len(run.tokens) == 6 and "".join(run.tokens) == SENTENCE
    assert (run.source, run.dim, run.seed) == ("random", dim, seed)
    assert torch.equal(run.attention.inputs, _recipe(ids, dim=dim, seed=seed))
    expected = self_attention(_recipe(ids, dim=dim, seed=seed))
    assert_close(run.attention.weights, expected.weights)
    assert_close(run.attention.context, expected.context)


def test_defaults_are_the_book_settings():
    run = attend(SENTENCE)
    assert (run.dim, run.seed) == (3, 123)


def test_settings_given_as_text_are_accepted():
    run = attend(SENTENCE, dim="4", seed="7")
    assert (run.dim, run.seed) == (4, 7)
    assert run.attention.inputs.shape == (6, 4)


def test_table_replaces_the_embeddings():
    run = attend(SENTENCE, table=BOOK_CSV)
    assert run.source == "table"
    assert run.seed is None and run.dim == 3
    assert run.ids == gpt2_encoding().encode(SENTENCE)
    assert torch.equal(run.attention.inputs, torch.tensor(BOOK))
    assert_close(run.attention.weights, torch.tensor(BOOK_WEIGHTS), atol=5e-5, rtol=0.0)


def test_table_row_count_must_match_the_tokens():
    five_rows = "\n".join(BOOK_CSV.splitlines()[:5])
    with pytest.raises(InputError) as caught:
        attend(SENTENCE, table=five_rows)
    message = str(caught.value)
    assert "5 rows" in message and "6 tokens" in message
    assert "␣journey" in message  # the tokens are listed, visibly


@pytest.mark.parametrize("text", ["", "   ", None], ids=["empty", "whitespace", "none"])
def test_labeled_table_without_text_uses_its_labels(text):
    run = attend(text, table=BOOK_LABELED)
    assert run.tokens == WORDS
    assert run.ids is None
    assert run.source == "table"
    assert_close(run.attention.weights, torch.tensor(BOOK_WEIGHTS), atol=5e-5, rtol=0.0)


def test_unlabeled_table_without_text_is_refused():
    with pytest.raises(InputError, match="no label column"):
        attend("", table=BOOK_CSV)


def test_huge_table_entries_are_refused_before_softmax():
    with pytest.raises(InputError, match="overflow") as caught:
        attend("a b", table="1e30, 1\n1, 1")
    assert "1e+60" in str(caught.value)


def test_large_but_safe_entries_work():
    run = attend("a b", table="1e18, 1\n1, 1")  # scores ≈ 1e36 < float32 max
    assert torch.isfinite(run.attention.weights).all()


def test_too_many_tokens():
    text = "a" + " a" * 299
    count = len(gpt2_encoding().encode(text))
    assert count == 300
    with pytest.raises(InputError) as caught:
        attend(text)
    assert "300 tokens" in str(caught.value) and "the limit is 256" in str(caught.value)


def test_exactly_the_token_limit_is_fine():
    text = "a" + " a" * 255
    run = attend(text)
    assert len(run.tokens) == 256
    assert run.attention.weights.shape == (256, 256)


def test_too_many_tokens_with_a_table():
    with pytest.raises(InputError, match="the limit is 256"):
        attend("a" + " a" * 299, table=BOOK_CSV)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x" * 10_001, "10,001 characters; the limit is 10,000"),
        ("   \n\t ", "empty"),
        ("", "empty"),
        ("a\ud800b", "surrogate"),
    ],
    ids=["too_long", "whitespace_only", "empty", "lone_surrogate"],
)
def test_bad_text_is_refused(text, fragment):
    with pytest.raises(InputError, match=fragment):
        attend(text)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"dim": 0}, "between 1 and 768"),
        ({"dim": 2.5}, "whole number"),
        ({"seed": -1}, "between 0 and 4,294,967,295"),
        ({"table": 5}, "The table must be text"),
        ({"table": "1, 2\n3, x"}, "Row 2, column 2"),
    ],
    ids=["dim_zero", "dim_fraction", "seed_negative", "table_not_text", "table_bad_cell"],
)
def test_bad_settings_are_refused(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        attend(SENTENCE, **kwargs)


def test_endoftext_works():
    run = attend("Hello <|endoftext|> world")
    assert 50256 in run.ids
    assert "<|endoftext|>" in run.tokens


@pytest.mark.parametrize(
    "text",
    ["a\x00b\x07c", "zero\u200bwidth", "\u200fשלום עולם", "tab\there\r\nnewline", "I love 🦀 and 東京"],
    ids=["control", "zero_width", "rtl", "whitespace_kinds", "emoji_cjk"],
)
def test_unusual_text_works(text):
    run = attend(text)
    assert run.ids == gpt2_encoding().encode(text)
    assert len(run.tokens) == len(run.ids)
    weights = run.attention.weights
    assert torch.isfinite(weights).all()
    assert_close(weights.sum(dim=-1), torch.ones(len(run.ids)))
