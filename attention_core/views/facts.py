"""What attention without weights can and cannot do, in words, each claim checked on the run it describes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..attention import SelfAttention
from ..facts import Repeat, SelfMatch, check_permutation, permutation_differences, row_entropy, same_vector_pairs
from .markup import scroll_tables
from .numbers import num
from .tokens import token_code

# Markdown tables stop listing after this many rows.
MAX_ROWS = 32
# An order-only example that holds under GPT-2's tokenizer: both sentences have the same five tokens.
ORDER_EXAMPLE = ("the dog bites the man", "the man bites the dog")
# A row whose largest weight is above this is called one-hot.
ONE_HOT = 0.99


def _difference(value: float) -> str:
    return "0 (equal)" if value == 0.0 else f"{value:.2e}"


def _difference_words(value: float) -> str:
    return "0 (exactly equal)" if value == 0.0 else f"{value:.2e} (float32 rounding)"


def repeats_markdown(tokens: Sequence[str], found: Sequence[Repeat], count: int) -> str:
    """The repeated tokens of a run, with the differences between their copies measured on it."""
    if not found:
        return (
            "**No repeated tokens:** every token has a different input vector, so no two rows of the weights "
            "are forced to be equal. Try a text that repeats a word, such as *the cat and the hat and the bat*."
        )
    repeated = sum(len(group.positions) for group in found)
    lines = [
        f"**Repeated tokens:** {len(found)} token{'s' if len(found) != 1 else ''} "
        f"{'appear' if len(found) != 1 else 'appears'} more than once with the same input vector "
        f"({repeated} of {count} positions).",
        "",
        r"Identical vectors have identical dot products with every token: if \(x^{(i)} = x^{(k)}\) then "
        r"\(\omega_{ij} = \omega_{kj}\) and \(\omega_{ji} = \omega_{jk}\) for every j. So their **rows** of the "
        "weights are identical (they attend in exactly the same way), their **columns** are identical (every "
        "token pays them the same attention), and their context vectors are identical. Trainable weights would not "
        "change this: identical inputs give identical queries, keys and values whatever the weights. What tells the "
        "copies apart is where they stand: positions added to the inputs (chapter 2), or the causal mask of "
        "section 3.5, which lets each copy see only the tokens before it.",
        "",
        "| token | positions | largest row difference | largest column difference | largest context difference |",
        "|---|---|---:|---:|---:|",
    ]
    for group in found[:MAX_ROWS]:
        positions = group.positions
        shown = ", ".join(str(i + 1) for i in positions[:12]) + (
            f", … ({len(positions)} in all)" if len(positions) > 12 else ""
        )
        lines.append(
            f"| {token_code(tokens[positions[0]])} | {shown} | {_difference(group.row_difference)} "
            f"| {_difference(group.column_difference)} | {_difference(group.context_difference)} |"
        )
    if len(found) > MAX_ROWS:
        lines.append(f"| … | ({len(found) - MAX_ROWS} more tokens) | | | |")
    largest = max(max(g.row_difference, g.column_difference, g.context_difference) for g in found)
    verdict = (
        "they are exactly equal, bit for bit"
        if largest == 0.0
        else f"the largest difference is {largest:.2e}, float32 rounding only"
    )
    lines += ["", f"Checked on this run's weights: {verdict}."]
    return scroll_tables("\n".join(lines))


def shuffle_markdown(
    tokens: Sequence[str], permutation: Sequence[int], original: SelfAttention, shuffled: SelfAttention
) -> str:
    """That shuffling the tokens only shuffles the matrix, with this run's numbers.

    permutation: shuffled position i holds original token ``permutation[i]``.
    """
    count = len(tokens)
    order = check_permutation(permutation, count)
    weights_difference, context_difference = permutation_differences(original, shuffled, order)
    shown = min(count, MAX_ROWS)
    order_text = " ".join(token_code(tokens[p]) for p in order[:shown]) + (" …" if shown < count else "")
    first, second = ORDER_EXAMPLE
    lines = [
        f"**Shuffled order:** {order_text}",
        "",
        r"Row i and column j of the shuffled matrix are row perm(i) and column perm(j) of the original: "
        r"\(\alpha^{\text{shuffled}}_{ij} = \alpha_{\mathrm{perm}(i)\,\mathrm{perm}(j)}\). The same numbers, moved "
        "with their tokens; and each token keeps its context vector.",
        "",
        "| shuffled position i | token | original position perm(i) |",
        "|---:|---|---:|",
    ]
    for i in range(min(count, 12)):
        lines.append(f"| {i + 1} | {token_code(tokens[order[i]])} | {order[i] + 1} |")
    if count > 12:
        lines.append(f"| … | ({count - 12} more) | |")
    lines += [
        "",
        f"Checked on this run: the largest difference between the shuffled weights and the original weights "
        f"with rows and columns reordered is {_difference_words(weights_difference)}; between the context vectors, "
        f"{_difference_words(context_difference)}.",
        "",
        "Each score depends only on the two vectors, never on where the tokens stand, so **word order carries no "
        f"information** here: *{first}* and *{second}* are the same five GPT-2 tokens in another order, so they get "
        "the same weights, reordered. Trainable weights alone would not change this; GPT-style models add "
        "positional embeddings to the inputs (chapter 2), and the causal mask of section 3.5 lets each token see "
        "only the tokens before it, so that order can matter.",
    ]
    return scroll_tables("\n".join(lines))


def self_match_markdown(tokens: Sequence[str], match: SelfMatch) -> str:
    """How often each token's largest score is with itself, on the diagonal's real numbers."""
    count = match.own.shape[0]
    ties = f", {match.ties} of them by a tie with an identical token" if match.ties else ""
    lines = [
        f"**Here, {match.count} of {count} tokens** have their largest score with themselves{ties} "
        r"(\(\omega_{ii} = \lVert x^{(i)} \rVert^2\), the matrix's diagonal). A dot product "
        r"\(x^{(i)} \cdot x^{(j)} \le \lVert x^{(i)} \rVert \, \lVert x^{(j)} \rVert\), so the diagonal wins "
        "over every token no longer than the query, but a longer vector pointing roughly the same way can beat it.",
        "",
        r"| i | token | \(\omega_{ii}\) (self) | largest other score | with | self wins? |",
        "|---:|---|---:|---:|---|:---:|",
    ]
    for i in range(min(count, MAX_ROWS)):
        other = "—" if count == 1 else num(float(match.best_other[i]))
        partner = "—" if count == 1 else token_code(tokens[int(match.partner[i])])
        verdict = ("tie" if bool(match.tie[i]) else "yes") if bool(match.wins[i]) else "no"
        lines.append(
            f"| {i + 1} | {token_code(tokens[i])} | {num(float(match.own[i]))} | {other} | {partner} | {verdict} |"
        )
    if count > MAX_ROWS:
        lines.append(f"| … | ({count - MAX_ROWS} more rows) | | | | |")
    return scroll_tables("\n".join(lines))


def self_match_by_dim_markdown(text: str, seed: int, rows: Sequence[tuple[int, int, int]]) -> str:
    """A table of (dim, tokens whose best match is themselves, tokens) for one sentence, with what it shows."""
    lines = [
        f"*{text}* with the seeded random table (seed {seed}):",
        "",
        "| dimension d | tokens whose largest score is with themselves |",
        "|---:|---|",
    ]
    lines += [f"| {dim} | {wins} of {count} |" for dim, wins, count in rows]
    lines += [
        "",
        "For random vectors, the score with itself grows like d while the score of two unrelated vectors grows "
        "only like √d, so the more dimensions, the more often the diagonal wins. With few dimensions, or with "
        "vectors of unequal length (like the book's table), it often does not.",
    ]
    return scroll_tables("\n".join(lines))


def _sharpness(scores: torch.Tensor, tau: float) -> tuple[float, float, int]:
    """Mean largest weight per row, mean row entropy (nats), and how many rows are one-hot, at τ.

    All in float64 from the run's scores: float32 weights of exactly 1.0 would lose a near one-hot row's entropy.
    """
    weights = torch.softmax(scores.double() / tau, dim=-1)  # (T, T)
    top = weights.max(dim=-1).values  # (T,)
    return float(top.mean()), float(row_entropy(scores, temperature=tau).mean()), int((top > ONE_HOT).sum())


def temperature_markdown(scores: torch.Tensor, temperature: float, dim: int) -> str:
    """How τ in softmax(ω / τ) sharpens or flattens this run's rows, against τ = 1 and τ = √d, with what √d
    does and does not do, on this run's numbers."""
    count = scores.shape[0]
    root = math.sqrt(dim)
    rows = [("τ = 1 (the book)", 1.0), (f"τ = √d = {num(root, dtype='float64')} (scaled dot-product attention)", root)]
    if temperature not in (1.0, root):
        rows.insert(0, (f"τ = {num(temperature, dtype='float64')} (this run)", temperature))
    measured = {tau: _sharpness(scores, tau) for _, tau in rows}
    lines = [
        r"Weights are \(\alpha = \operatorname{softmax}(\omega / \tau)\). **τ > 1 flattens** each row toward the "
        rf"uniform \(1/T = {num(1 / count)}\); **τ < 1 sharpens** it toward the row's largest score.",
        "",
        "| temperature | mean largest weight per row | mean row entropy (nats, float64; uniform = "
        f"{num(math.log(count), dtype='float64')}) | one-hot rows (largest weight > {ONE_HOT}) |",
        "|---|---:|---:|---:|",
    ]
    for label, tau in rows:
        top, entropy, one_hot = measured[tau]
        lines.append(
            f"| {label} | {num(top, dtype='float64')} | {num(entropy, dtype='float64')} | {one_hot} of {count} |"
        )
    lines += [
        "",
        rf"Section 3.4 divides by \(\sqrt{{d_k}}\), the keys' dimension (2 in the book's example, after projecting "
        rf"the inputs); here the keys are the inputs themselves, so \(d_k = d\) and \(\sqrt{{{dim}}} = "
        rf"{num(root, dtype='float64')}\). The reason: the dot product of two unrelated random vectors with "
        r"unit-variance entries grows like \(\sqrt{d}\), so dividing keeps such scores near 1 whatever d is. It does "
        r"not tame a vector's score with itself, \(\lVert x \rVert^2\), which grows like d.",
        "",
        _sizes(scores, dim, measured[root][2]),
    ]
    return scroll_tables("\n".join(lines))


def _sizes(scores: torch.Tensor, dim: int, one_hot_root: int) -> str:
    """The run's self-scores and the typical size of its scores between different tokens, before and after √d."""
    count = scores.shape[0]
    root = math.sqrt(dim)
    own = scores.diagonal().double()  # (T,) ‖x‖²
    copies = same_vector_pairs(scores)  # (T, T): pairs of copies of one token, whose score is a self-score
    different = ~torch.eye(count, dtype=torch.bool) & ~copies  # (T, T)
    text = f"In this run the self-scores average {num(float(own.mean()))}"
    if not bool(different.any()):
        return text + (
            f"; every token is a copy of one token, so there are no scores between different tokens. At τ = √d, "
            f"{one_hot_root} of {count} rows are one-hot."
        )
    size = float(scores.double()[different].pow(2).mean().sqrt())  # root mean square
    scaled = size / root
    pairs = int(different.sum())
    left_out = int(copies.sum())
    skipped = (
        f"; the {left_out} pairs of copies of a repeated token are left out, as their score is a self-score"
        if left_out
        else ""
    )
    near = 0.5 <= scaled <= 2.0
    verdict = (
        "near 1, as the argument says"
        if near
        else "not near 1: these vectors are not the unit-variance random vectors the argument is about"
    )
    return (
        f"{text}, and the scores of different tokens have a typical size (root mean square, over the {pairs} ordered "
        f"pairs of different tokens{skipped}) of {num(size, dtype='float64')}; divided by √d = "
        f"{num(root, dtype='float64')}, that is {num(scaled, dtype='float64')}, {verdict}. At τ = √d, {one_hot_root} "
        f"of {count} rows are still one-hot."
    )


def projections_markdown(
    tokens: Sequence[str],
    plain: torch.Tensor,
    projected: torch.Tensor,
    query: int,
    *,
    scores: torch.Tensor | None = None,
    projected_scores: torch.Tensor | None = None,
) -> str:
    """Where one query attends without weights and with random (untrained) projections, on this run's numbers.

    plain, projected: (T, T) weights; query: the row to show (0-based). scores, projected_scores: (T, T) ω = X Xᵀ
    and q^(i) · k^(j); with both, the text compares which of them is symmetric, measured on the pair it names.
    """
    count = plain.shape[0]
    other = max(range(count), key=lambda j: -1.0 if j == query else float(projected[query, j]))
    lines = [
        f"Where {token_code(tokens[query])} (token {query + 1}) attends, weight-free and with random query and key "
        "projections drawn as in section 3.4.1 (`torch.manual_seed(123); torch.rand(d_in, 2)`, untrained):",
        "",
        "| j | key | weight-free α | with random, untrained W_q, W_k |",
        "|---:|---|---:|---:|",
    ]
    for j in range(min(count, MAX_ROWS)):
        lines.append(
            f"| {j + 1} | {token_code(tokens[j])} | {num(float(plain[query, j]))} | {num(float(projected[query, j]))} |"
        )
    lines += ["", _largest(tokens, plain[query], projected[query])]
    if scores is not None and projected_scores is not None and count > 1:
        lines += ["", _symmetry(tokens, query, other, scores, plain, projected_scores)]
    lines += [
        "",
        "These W_q and W_k are random and untrained: they move the weights somewhere, not somewhere useful. Training "
        "is what gives them meaning, choosing W_q and W_k so that a token attends to the tokens that help predict the "
        "next one. **Watch the weights learn**, the next panel, trains them on this sentence.",
    ]
    return scroll_tables("\n".join(lines))


def _largest(tokens: Sequence[str], plain: torch.Tensor, projected: torch.Tensor) -> str:
    """Which key gets the row's largest weight, each way, naming every key that ties for it."""

    def best(row: torch.Tensor) -> tuple[list[int], str]:
        keys = [int(j) for j in torch.nonzero(row == row.max()).flatten()]
        names = " and ".join(token_code(tokens[j]) for j in keys[:4]) + (" …" if len(keys) > 4 else "")
        return keys, names + (f" ({len(keys)} keys tie)" if len(keys) > 1 else "")

    (plain_keys, plain_names), (projected_keys, projected_names) = best(plain), best(projected)
    if plain_keys == projected_keys:
        return f"Both ways, its largest weight goes to {plain_names}."
    return f"Weight-free, its largest weight goes to {plain_names}; with these projections, to {projected_names}."


def _symmetry(
    tokens: Sequence[str],
    query: int,
    other: int,
    scores: torch.Tensor,
    weights: torch.Tensor,
    projected_scores: torch.Tensor,
) -> str:
    """Scores are symmetric without projections and not with them; weights are not symmetric either way."""
    a, b = token_code(tokens[query]), token_code(tokens[other])
    forward, backward = num(float(scores[query, other])), num(float(scores[other, query]))
    if forward == backward:
        plain_scores = f"the scores are symmetric: ω({a} → {b}) = ω({b} → {a}) = {forward}, one dot product"
    else:
        plain_scores = (
            f"the scores are symmetric up to float32 rounding: ω({a} → {b}) = {forward}, ω({b} → {a}) = {backward}"
        )
    alpha_forward, alpha_backward = num(float(weights[query, other])), num(float(weights[other, query]))
    if alpha_forward == alpha_backward:
        plain_weights = f"here their weights happen to be equal too ({alpha_forward})"
    else:
        plain_weights = (
            f"but the weights already are not, because each row is normalized on its own: α({a} → {b}) = "
            f"{alpha_forward}, α({b} → {a}) = {alpha_backward}"
        )
    q_forward, q_backward = num(float(projected_scores[query, other])), num(float(projected_scores[other, query]))
    if q_forward != q_backward:
        projected = (
            f"With the projections the scores themselves differ: q({a}) · k({b}) = {q_forward}, "
            f"q({b}) · k({a}) = {q_backward}."
        )
    else:
        projected = f"With these projections the two scores happen to be equal here: {q_forward} both ways."
    return f"**Symmetry.** Weight-free, {plain_scores}; {plain_weights}. {projected}"
