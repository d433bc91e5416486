"""What attention without weights can and cannot do, in words: every claim checked on the run it describes."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from decimal import Decimal, localcontext

import pytest
import torch
from golden import INPUTS, PIECES
from reference import CAT_SENTENCE, one_hot_rows, recipe_inputs, self_wins

from attention_core import (
    attend,
    permute,
    projected_scores,
    projected_weights,
    random_permutation,
    repeats,
    self_attention,
    self_matches,
    tokenize,
)
from attention_core.views.facts import (
    ORDER_EXAMPLE,
    projections_markdown,
    repeats_markdown,
    self_match_by_dim_markdown,
    self_match_markdown,
    shuffle_markdown,
    temperature_markdown,
)

REPEATED_TEXT = "the cat and the hat and the bat"  # " and" and " the" repeat; the first "the" is another token
X = torch.tensor(INPUTS)


# --- repeated tokens -------------------------------------------------------------------------------


def test_repeated_tokens_are_named_with_their_measured_differences():
    run = attend(REPEATED_TEXT, dim=4, seed=7)
    text = repeats_markdown(run.tokens, repeats(run.ids, run.attention), len(run.tokens))
    assert text.startswith(
        "**Repeated tokens:** 2 tokens appear more than once with the same input vector (4 of 8 positions)."
    )
    assert "| <code>␣and</code> | 3, 6 | 0 (equal) | 0 (equal) | 0 (equal) |" in text
    assert "| <code>␣the</code> | 4, 7 | 0 (equal) | 0 (equal) | 0 (equal) |" in text
    assert "| <code>the</code> |" not in text
    assert "they are exactly equal, bit for bit" in text
    # Issue 13, item 4: trainable weights do not separate copies; only positions can.
    assert "Trainable weights would not change this" in text and "Only positions" not in text
    # Issue 23, Low 1: the causal mask tells copies apart too, as the lessons say.
    assert "positions added to the inputs (chapter 2), or the causal mask of section 3.5" in text


def test_a_real_difference_is_reported_not_hidden():
    run = attend(REPEATED_TEXT, dim=4, seed=7)
    weights = run.attention.weights.clone()
    weights[5, 0] += 3e-7
    found = repeats(run.ids, dataclasses.replace(run.attention, weights=weights))
    text = repeats_markdown(run.tokens, found, len(run.tokens))
    assert f"the largest difference is {found[0].row_difference:.2e}, float32 rounding only" in text
    assert "bit for bit" not in text


def test_no_repeated_tokens():
    assert repeats_markdown(PIECES, [], 6).startswith("**No repeated tokens:**")


# --- order -----------------------------------------------------------------------------------------


def test_the_order_example_holds_under_the_gpt2_tokenizer():
    """Issue 13, item 3: both sentences must be the same tokens in another order, or the claim is false."""
    first, second = (tokenize(sentence) for sentence in ORDER_EXAMPLE)
    assert first.ids != second.ids
    assert Counter(first.ids) == Counter(second.ids)
    # And so, with any embedding, the weights are the same numbers reordered.
    order: list[int] = []  # position k of the second sentence is position order[k] of the first
    for token_id in second.ids:
        order.append(next(i for i, t in enumerate(first.ids) if t == token_id and i not in order))
    inputs = recipe_inputs(first.ids, dim=8, seed=1)
    original, shuffled = self_attention(inputs), self_attention(recipe_inputs(second.ids, dim=8, seed=1))
    index = torch.tensor(order)
    assert torch.allclose(shuffled.weights, original.weights[index][:, index], atol=1e-6)


def test_shuffle_markdown_reports_this_runs_difference():
    permutation = random_permutation(6, seed=0)
    original = self_attention(X)
    shuffled = self_attention(permute(X, permutation))
    text = shuffle_markdown(PIECES, permutation, original, shuffled)
    index = torch.tensor(permutation)
    difference = float((shuffled.weights - original.weights[index][:, index]).abs().max())
    words = "0 (exactly equal)" if difference == 0 else f"{difference:.2e} (float32 rounding)"
    assert f"with rows and columns reordered is {words}" in text
    for i, p in enumerate(permutation):
        assert f"| {i + 1} | <code>{PIECES[p].replace(' ', '␣')}</code> | {p + 1} |" in text
    first, second = ORDER_EXAMPLE
    assert f"*{first}* and *{second}* are the same five GPT-2 tokens" in text
    assert len(tokenize(first).ids) == 5


# --- self-match ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [("book", (2, 6)), ("cat_d3", (6, 10))],
    ids=["book_table", "cat_sentence_d3"],
)
def test_self_match_counts_are_recounted_independently(source, expected):
    """Issue 13, item 1: 2 of 6 on the book's table and 6 of 10 on the cat sentence at d = 3, not "usually itself"."""
    if source == "book":
        tokens, scores = PIECES, X @ X.T
    else:
        run = attend(CAT_SENTENCE, dim=3, seed=123)
        inputs = recipe_inputs(run.ids, dim=3, seed=123)
        tokens, scores = run.tokens, inputs @ inputs.T
    wins, ties = self_wins(scores)
    assert (wins, len(tokens)) == expected and ties == 0
    text = self_match_markdown(tokens, self_matches(scores))
    assert text.startswith(f"**Here, {wins} of {len(tokens)} tokens** have their largest score with themselves ")
    verdicts = re.findall(r"\| (yes|no|tie) \|$", text, flags=re.MULTILINE)
    assert verdicts.count("yes") == wins and len(verdicts) == len(tokens)


def test_self_match_says_when_a_win_is_a_tie():
    """Issue 13, item 15: ties count as wins, and the text says so."""
    run = attend(REPEATED_TEXT, dim=4, seed=7)
    wins, ties = self_wins(run.attention.scores)
    assert ties > 0
    text = self_match_markdown(run.tokens, self_matches(run.attention.scores))
    assert f"**Here, {wins} of 8 tokens** have their largest score with themselves, {ties} of them by a tie" in text
    assert len(re.findall(r"\| tie \|$", text, flags=re.MULTILINE)) == ties


def test_self_match_by_dim_table():
    text = self_match_by_dim_markdown(CAT_SENTENCE, 123, [(3, 6, 10), (768, 10, 10)])
    assert "| 3 | 6 of 10 |" in text and "| 768 | 10 of 10 |" in text
    assert "grows like d" in text and "like √d" in text


# --- temperature and √d (issue 13, item 2) ------------------------------------------------------------


def test_sqrt_d_text_on_the_cat_sentence_at_d_768():
    run = attend(CAT_SENTENCE, dim=768, seed=123)
    inputs = recipe_inputs(run.ids, dim=768, seed=123)
    scores = inputs @ inputs.T  # (T, T), independent of the run
    root = math.sqrt(768)
    still_one_hot = one_hot_rows(scores, root)
    assert still_one_hot == 10  # the run this text was written for: √d does not stop one-hot rows here
    text = temperature_markdown(run.attention.scores, 1.0, 768)
    assert f"At τ = √d, {still_one_hot} of 10 rows are still one-hot" in text
    entropy = _mean_entropy(run.attention.scores, 1.0)  # ≈ 5e-279: tiny, but not 0
    assert f"| τ = 1 (the book) | 1.0000 | {_shown(entropy)} | {one_hot_rows(scores, 1.0)} of 10 |" in text
    assert re.search(
        rf"\| τ = √d = 27.7128 \(scaled dot-product attention\) \| [^|]+ \| [^|]+ \| {still_one_hot} of 10 \|", text
    )
    average = float(re.search(r"the self-scores average ([^, ]+)", text).group(1))
    assert average == pytest.approx(float(scores.diagonal().double().mean()), rel=1e-5)
    # What √d does and does not do, not "stops long vectors making softmax one-hot".
    assert "grows like \\(\\sqrt{d}\\)" in text and "which grows like d" in text
    assert "It does not tame a vector's score with itself" in text


def test_temperature_text_on_the_book_lists_this_runs_tau_first():
    text = temperature_markdown(X @ X.T, 2.0, 3)
    labels = re.findall(r"^\| (τ = [^|]*?) \|", text, flags=re.MULTILINE)
    assert labels == ["τ = 2.0000 (this run)", "τ = 1 (the book)", "τ = √d = 1.7321 (scaled dot-product attention)"]
    assert f"uniform = {math.log(6):.4f}" in text
    assert "At τ = √d, 0 of 6 rows are still one-hot" in text


# --- issue 23: typical size, entropy digits, symmetry ----------------------------------------------------------


def _mean_entropy(scores: torch.Tensor, tau: float) -> Decimal:
    """The rows' mean entropy of softmax(ω / τ), in 60-digit decimals: H = log(1 + r) − Σ_j e^{s_j} s_j / (1 + r),
    with s_j = ω_j / τ − max and r the sum of the other exponentials (log(1 + r) by its series when r is tiny, as
    1 + r would round to 1)."""
    with localcontext() as context:
        context.prec = 60
        total = Decimal(0)
        for row in scores.double().tolist():
            scaled = [Decimal(v) / Decimal(tau) for v in row]
            top = max(scaled)
            exps = [(v - top).exp() for v in scaled]
            first = scaled.index(top)
            rest = sum(e for j, e in enumerate(exps) if j != first)  # not sum(exps) - 1: 1 + r would round
            log_z = rest - rest * rest / 2 + rest**3 / 3 if rest < Decimal("1e-15") else (1 + rest).ln()
            total += log_z - sum(e * (v - top) for e, v in zip(exps, scaled)) / (1 + rest)
        return total / len(scores)


def _shown(value: Decimal) -> str:
    """How the panel prints a float64 number: 4 decimals, or 5 significant digits below 5e-5."""
    return f"{value:.4f}" if abs(value) >= Decimal("5e-5") else f"{float(value):.4e}"


@pytest.mark.parametrize(
    ("text", "dim"), [(CAT_SENTENCE, 768), ("the cat and the hat and the bat", 64)], ids=["cat", "repeats"]
)
def test_mean_entropy_has_no_noise_digits(text, dim):
    """Issue 23, Medium 6: the entropy of near one-hot rows, to the digits printed, from exact decimals."""
    run = attend(text, dim=dim, seed=123)
    scores = run.attention.scores
    panel = temperature_markdown(scores, 1.0, dim)
    for tau in (1.0, math.sqrt(dim)):
        assert f"| {_shown(_mean_entropy(scores, tau))} | " in panel, tau


def test_typical_size_counts_pairs_of_different_tokens_only():
    """Issue 23, Medium 1: copies of one token are not "unrelated vectors"; their scores are left out."""
    text = "the cat and the hat and the bat sat on the mat and the dog and the frog"
    run = attend(text, dim=768, seed=123)
    inputs = recipe_inputs(run.ids, dim=768, seed=123)
    rows = inputs.double().tolist()
    different = [(i, j) for i in range(len(rows)) for j in range(len(rows)) if rows[i] != rows[j]]
    copies = sum(1 for i in range(len(rows)) for j in range(len(rows)) if i != j and rows[i] == rows[j])
    size = math.sqrt(
        math.fsum(math.fsum(a * b for a, b in zip(rows[i], rows[j])) ** 2 for i, j in different) / len(different)
    )
    panel = temperature_markdown(run.attention.scores, 1.0, 768)
    shown = re.search(r"of (\S+); divided by √d", panel).group(1)
    assert float(shown) == pytest.approx(size, rel=1e-5)
    assert size < 2 * math.sqrt(768)  # the copies' ≈ 750 would have inflated it
    assert f"over the {len(different)} ordered pairs of different tokens; the {copies} pairs of copies" in panel
    assert f"that is {size / math.sqrt(768):.4f}, near 1" in panel


def test_typical_size_says_when_it_is_not_near_1():
    panel = temperature_markdown(X @ X.T, 1.0, 3)  # the book's vectors are not unit-variance random ones
    assert "not near 1: these vectors are not the unit-variance random vectors" in panel
    assert r"divides by \(\sqrt{d_k}\), the keys' dimension (2 in the book's example" in panel


def test_symmetry_is_claimed_of_scores_only_with_this_runs_numbers():
    """Issue 23, Medium 2: weights are asymmetric without projections already; only the scores are symmetric."""
    run = attend(CAT_SENTENCE, dim=3, seed=123)
    inputs = run.attention.inputs
    scores = inputs @ inputs.T
    projected = projected_scores(inputs)
    weights = run.attention.weights
    text = projections_markdown(
        run.tokens, weights, projected_weights(inputs), 9, scores=scores, projected_scores=projected
    )
    other = int(re.search(r"α\(<code>␣warm</code> → <code>([^<]+)</code>\)", text).group(1) == "␣on") and 3
    assert other == 3  # the key with the largest projected weight besides warm itself
    assert f"= {scores[9, 3].item():.4f}, one dot product" in text
    assert f"α(<code>␣warm</code> → <code>␣on</code>) = {weights[9, 3].item():.4f}" in text
    assert f"α(<code>␣on</code> → <code>␣warm</code>) = {weights[3, 9].item():.4f}" in text
    assert weights[9, 3] != weights[3, 9] and "but the weights already are not" in text
    assert f"q(<code>␣warm</code>) · k(<code>␣on</code>) = {projected[9, 3].item():.4f}" in text
    assert "break the symmetry" not in text


def test_a_tie_for_the_largest_weight_names_every_key():
    """Issue 23, Low 7: a tie is not broken by the first index."""
    plain = torch.tensor([[0.25, 0.25, 0.5], [0.4, 0.4, 0.2], [0.1, 0.1, 0.8]])
    text = projections_markdown(["a", "b", "c"], plain, plain, 1)
    assert "Both ways, its largest weight goes to <code>a</code> and <code>b</code> (2 keys tie)." in text
