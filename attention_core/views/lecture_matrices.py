"""The lecture's steps 9 to 14: the context vector z^(2), all scores, all weights, all context vectors, whether this
attention means anything, and why trainable weights come next. ``lecture.lecture_step`` calls them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from ..attention import self_attention_loops
from ..sweeps import ONE_HOT, one_hot_rows
from ..tokens import visible_token
from .markup import code_block, scroll_tables
from .numbers import num
from .tokens import inert, token_code
from .walkthrough import latex_vector, tex

if TYPE_CHECKING:
    pass
from .lecture import (
    CAT_SENTENCE,
    DIMENSION_SEEDS,
    LEARN_ID,
    LOOP_TOKENS,
    NEARLY_ALL,
    STEP_TITLES,
    SWEEP_SEEDS,
    Highlight,
    Question,
    Step,
    _ordinal,
    _Run,
    _values,
    sweeps,
)


def context_step(r: _Run) -> Step:
    n, q = r.n, r.q
    weights = r.weights[q].tolist()
    first = [float(r.inputs[j, 0]) for j in range(r.count)]
    terms = " + ".join(f"{num(w)} \\cdot {num(x)}" for w, x in list(zip(weights, first))[:4])
    if r.count > 4:
        terms += r" + \dots"
    low, high = r.inputs.min(dim=0).values, r.inputs.max(dim=0).values  # (d,), (d,)
    inside = bool(((r.context[q] >= low) & (r.context[q] <= high)).all())
    lines = [
        f"The context vector of token {n} is the weighted sum of all inputs, with row {n}'s weights:",
        rf"$$z^{{({n})}} = \sum_{{j=1}}^{{T}} \alpha_{{{r.ij(n, 'j')}}} \, x^{{(j)}} = {latex_vector(r.context[q])}$$",
        rf"Its first coordinate: \(z^{{({n})}}_1 = {terms} = {tex(float(r.context[q, 0]))}\).",
        "",
        "The weights are at least 0 and sum to 1, so this is a weighted **average**: each coordinate lies between the "
        "smallest and the largest of the inputs' coordinates" + (" (true here for all of them)." if inside else "."),
    ]
    # The question looks ahead: step 10 computes every score, and ω is symmetric.
    k = r.k
    if k == q:
        question = None
    else:
        a, b = r.q + 1, k + 1
        options = [(k, q), (q, q), (k, k)]
        labels = [f"ω{r.ij(a_ + 1, b_ + 1)}: query {a_ + 1}, key {b_ + 1}" for a_, b_ in options]
        target = float(r.scores[q, k])
        gaps = [abs(float(r.scores[i, j]) - target) for i, j in options]
        answer = gaps.index(min(gaps))
        why = (
            rf"\(\omega_{{{r.ij(b, a)}}} = x^{{({b})}} \cdot x^{{({a})}}\) multiplies the same pairs of numbers as "
            rf"\(\omega_{{{r.ij(a, b)}}}\): here {num(float(r.scores[k, q]))} and {num(target)}. The whole score "
            "matrix is symmetric; the diagonal holds each token's score with itself "
            rf"(\(\omega_{{{r.ij(a, a)}}} = {tex(float(r.scores[q, q]))}\), \(\omega_{{{r.ij(b, b)}}} = "
            rf"{tex(float(r.scores[k, k]))}\))."
        )
        question = Question(
            f"Next, all scores at once. Which other cell will hold the same score as ω{r.ij(a, b)} "
            f"(query {a}, key {b})?",
            tuple(labels),
            answer,
            why,
        )
    return Step(9, STEP_TITLES[8], "\n".join(lines), Highlight(rows=(q,)), "weights", question)


def all_scores_step(r: _Run) -> Step:
    n, k = r.n, r.k
    shown = min(r.count, LOOP_TOKENS)
    loops = self_attention_loops(r.inputs[:shown])
    difference = float((loops.scores - r.scores[:shown, :shown]).abs().max())
    loop_code = "\n".join(
        [
            "attn_scores = torch.empty(T, T)",
            "for i, x_i in enumerate(inputs):",
            "    for j, x_j in enumerate(inputs):",
            "        attn_scores[i, j] = torch.dot(x_i, x_j)",
        ]
    )
    compared = "every score" if shown == r.count else f"the first {shown} tokens' scores"
    asymmetry = float((r.scores - r.scores.T).abs().max())
    symmetric = (
        "the matrix is symmetric, exactly on this run"
        if asymmetry == 0
        else f"the matrix is symmetric up to float32 rounding (largest difference {asymmetry:.1e})"
    )
    lines = [
        f"Every token is a query. Two loops compute all {r.count} × {r.count} scores, one dot product at a time:",
        "",
        code_block(loop_code),
        "",
        "One matrix product computes them all at once:",
        r"$$\omega = X X^\top, \qquad (T \times d)\,(d \times T) \to (T \times T)$$",
        code_block("attn_scores = inputs @ inputs.T"),
        "",
        f"On this run, the loops and the product agree on {compared}: the largest difference is "
        + ("0." if difference == 0 else f"{difference:.1e}, float32 rounding (the product adds in another order).")
        + rf" Row {n} is the row of the earlier steps, and \(\omega_{{{r.ij(n, k + 1)}}} = "
        rf"\omega_{{{r.ij(k + 1, n)}}}\) (highlighted): {symmetric}.",
    ]
    cells = ((r.q, k), (k, r.q)) if k != r.q else ((r.q, r.q),)
    return Step(10, STEP_TITLES[9], "\n".join(lines), Highlight(cells=cells), "scores")


def all_weights_step(r: _Run) -> Step:
    n, q = r.n, r.q
    sums = r.weights.double().sum(dim=-1)  # (T,)
    worst = float((sums - 1).abs().max())
    column = float(r.weights[:, q].double().sum())
    lines = [
        "Softmax over each row of the score matrix, at once:",
        code_block("attn_weights = torch.softmax(attn_scores, dim=-1)"),
        r"$$\alpha_{ij} = \frac{e^{\omega_{ij}}}{\sum_{k=1}^{T} e^{\omega_{ik}}}$$",
        f"Row {n}: {_values(r.weights[q].tolist())}, the same as step 8.",
        "",
        f"Row sums: {_values(sums.tolist())}. The largest distance from 1 over all {r.count} rows is "
        + ("0." if worst == 0 else f"{worst:.1e} (float32 rounding).")
        + f" Column {n} (highlighted) is how much each query attends to {r.tok(q)}.",
    ]
    adds_up = abs(column - 1) <= 1e-5
    why = (
        f"Column {n} sums to {num(column)}. Softmax makes each **row** sum to 1 (each query shares out its "
        "attention); nothing does the same for a column, which is how much attention one token receives."
    )
    question = Question(
        f"Each row sums to 1. Does column {n} sum to 1 too?",
        ("Yes", "No"),
        0 if adds_up else 1,
        why,
    )
    return Step(11, STEP_TITLES[10], "\n".join(lines), Highlight(cols=(q,)), "weights", question)


def all_context_step(r: _Run) -> Step:
    rows = min(r.count, 6)
    lines = [
        "And all context vectors with one more product: each row of the weights mixes the inputs.",
        r"$$Z = \alpha X, \qquad (T \times T)\,(T \times d) \to (T \times d)$$",
        code_block("all_context_vecs = attn_weights @ inputs"),
        "",
    ]
    lines += [rf"- \(z^{{({i + 1})}} = {latex_vector(r.context[i])}\) for {r.tok(i)}" for i in range(rows)]
    if r.count > rows:
        lines.append(f"- … ({r.count - rows} more)")
    lines += ["", f"Row {r.n} is the context vector of step 9. Every row of the matrix is used (highlighted)."]
    _, by_dim = sweeps()
    top = by_dim[-1]
    selves = top.self_top / top.rows
    if selves >= NEARLY_ALL:
        answer = 0
    elif top.one_hot_share < 1 - NEARLY_ALL:
        answer = 1
    else:
        answer = 2
    why = (
        f"Over {len(DIMENSION_SEEDS)} seeds of *{CAT_SENTENCE}* at d = {top.dim}, {top.one_hot} of {top.rows} rows "
        f"are one-hot (largest weight above {ONE_HOT}), and in {top.self_top} of {top.rows} the largest weight is the "
        f"token's own. Step 13 shows why."
    )
    question = Question(
        f"With random embeddings of d = {top.dim} dimensions, where will each token of “{CAT_SENTENCE}” attend?",
        ("Almost only to itself", "Spread over all the tokens", "Somewhere in between, different for each token"),
        answer,
        why,
    )
    return Step(12, STEP_TITLES[11], "\n".join(lines), Highlight(rows=tuple(range(r.count))), "weights", question)


def meaningful_step(r: _Run) -> Step:
    by_seed, by_dim = sweeps()
    tokens = by_seed.tokens
    query, key = by_seed.query, by_seed.key
    ranks = by_seed.ranks
    tops = by_seed.top_counts()
    itself = tops.get(query, 0)
    seeds = len(by_seed.rows)
    to_key = sum(1 for rank in ranks if rank == 1)
    lines = [
        f"The lecture's example: in *{CAT_SENTENCE}*, the query {token_code(tokens[query])} should attend to "
        f"{token_code(tokens[key])}. With the app's random embeddings (d = {by_seed.dim}), where it attends "
        "depends only on the seed:",
        "",
        f"- Over seeds {SWEEP_SEEDS[0]} to {SWEEP_SEEDS[-1]}, its strongest key is itself in {itself} of {seeds}, "
        f"and {token_code(tokens[key])} in {to_key} of {seeds}.",
        f"- {token_code(tokens[key])} ranks anywhere from {_ordinal(min(ranks))} to {_ordinal(max(ranks))} of "
        f"{len(tokens)} keys.",
        "",
        f"<details><summary>Each seed: where {inert(visible_token(tokens[query]))} attends</summary>",
        "",
        f"| seed | strongest key | its weight | weight on {token_code(tokens[key])} | rank of "
        f"{token_code(tokens[key])} |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in by_seed.rows:
        lines.append(
            f"| {row.seed} | {token_code(tokens[row.top])} | {num(float(row.weights[row.top]))} "
            f"| {num(float(row.weights[key]))} | {row.key_rank} |"
        )
    lines += [
        "",
        "</details>",
        "",
        f"**More dimensions make it worse.** The same sentence over seeds {DIMENSION_SEEDS[0]} to "
        f"{DIMENSION_SEEDS[-1]} (scores in float64):",
        "",
        r"| d | mean \(\lVert x \rVert^2\) | typical \(\omega_{ij}\), i ≠ j (root mean square) | \(\sqrt{d}\) "
        "| one-hot rows, τ = 1 | one-hot rows, τ = √d | rows whose top weight is the token itself |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in by_dim:
        lines.append(
            f"| {row.dim} | {num(row.mean_self_score, dtype='float64')} | {num(row.rms_other_score, dtype='float64')} "
            f"| {num(math.sqrt(row.dim), dtype='float64')} | {row.one_hot} of {row.rows} "
            f"| {row.one_hot_root} of {row.rows} | {row.self_top} of {row.rows} |"
        )
    big = by_dim[-1]
    gap = big.mean_self_score - big.rms_other_score
    lines += [
        "",
        rf"Why: \(\lVert x \rVert^2\) adds up d squares that each average 1, so it grows like d "
        f"({num(big.mean_self_score, dtype='float64')} at d = {big.dim}). The dot product of two unrelated vectors "
        "adds up d products that average 0, positive and negative, so it only grows like √d "
        f"({num(big.rms_other_score, dtype='float64')} at d = {big.dim}, and √{big.dim} = "
        f"{num(math.sqrt(big.dim), dtype='float64')}). The diagonal wins by about {round(gap)}, a "
        rf"factor of about \(e^{{{round(gap)}}}\) after the softmax: every token attends only to itself. Dividing by "
        "√d (section 3.4) tames the unrelated scores but not ‖x‖², which is still √d times larger.",
        "",
    ]
    rows = one_hot_rows(r.weights)
    selves = int((r.weights.argmax(dim=-1) == torch.arange(r.count)).sum())
    lines.append(
        f"**This run:** {rows} of {r.count} rows are one-hot, and in {selves} of {r.count} the largest weight is the "
        "token's own (the diagonal, highlighted). So this attention follows how the embeddings happen to lie, "
        "not what the words mean."
    )
    diagonal = tuple((i, i) for i in range(r.count))
    return Step(13, STEP_TITLES[12], scroll_tables("\n".join(lines)), Highlight(cells=diagonal), "weights")


def trainable_step(r: _Run) -> Step:
    lines = [
        "Without trainable weights, every score depends only on two fixed embeddings: nothing can be learned, the "
        r"scores are symmetric (\(\omega_{ij} = \omega_{ji}\)), and a long enough vector, or many dimensions, makes "
        "each token attend mostly to itself.",
        "",
        "The next section gives each token three projections with trainable matrices, a **query**, a **key** and "
        "a **value**:",
        r"$$q^{(i)} = x^{(i)} W_q, \quad k^{(j)} = x^{(j)} W_k, \quad v^{(j)} = x^{(j)} W_v, \qquad "
        r"\omega_{ij} = q^{(i)} \cdot k^{(j)}$$",
        r"The scores are no longer symmetric (`warm` can attend to `mat` without `mat` attending back), and training "
        "chooses \\(W_q\\) and \\(W_k\\) so that each token attends where it helps predict the next one: "
        "`warm` can learn to look at `mat` even if their embeddings are far apart.",
        "",
        f'<a href="#{LEARN_ID}">Watch the weights learn</a>: train \\(W_q\\) and \\(W_k\\) on your own sentence '
        "and see the query's row move.",
    ]
    words = [visible_token(t) for t in r.tokens]
    # The lecture's own example when the run has it: warm attending to mat; else the query with itself.
    cell = (words.index("␣warm"), words.index("␣mat")) if {"␣warm", "␣mat"} <= set(words) else (r.q, r.q)
    return Step(14, STEP_TITLES[13], "\n".join(lines), Highlight(cells=(cell,)), "weights")
