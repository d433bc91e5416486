"""The lecture's steps 1 to 8, in the chapter's order: the sentence, its tokens, embeddings, the query, scores as dot
products, sum normalization, naive softmax, ``torch.softmax``. ``lecture.lecture_step`` calls them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..limits import exp_overflow_threshold
from ..sweeps import alignment
from .markup import scroll_tables
from .numbers import num
from .tokens import inert, token_code
from .walkthrough import dot_expansion, latex_vector, tex

if TYPE_CHECKING:
    pass
from .lecture import (
    SHOWN,
    STEP_TITLES,
    Highlight,
    Question,
    Step,
    _candidates,
    _Run,
    _six,
    _values,
)

# --- the steps -------------------------------------------------------------------------------------


def sentence_step(r: _Run) -> Step:
    if r.run.ids is not None:
        text = "".join(r.tokens).replace("\n", " ")
        shown = inert(text[:300]) + ("…" if len(text) > 300 else "")
    else:
        shown = " ".join(token_code(t) for t in r.tokens[:32]) + (" …" if r.count > 32 else "")
    markdown = "\n".join(
        [
            f"> {shown}",
            "",
            "Self-attention turns each token's embedding into a **context vector**: the same kind of vector, "
            "enriched with how that token relates to every other token of the sentence. This lecture computes one "
            "context vector by hand, then all of them at once, and ends with what attention without trainable "
            "weights cannot do.",
            "",
            "The goal, for every token i of the T tokens:",
            r"$$z^{(i)} = \sum_{j=1}^{T} \alpha_{ij} \, x^{(j)} = \alpha_{i1} x^{(1)} + \alpha_{i2} x^{(2)} + \dots$$",
            r"a weighted sum of all the inputs \(x^{(j)}\), with **attention weights** \(\alpha_{ij}\) that say how "
            "much token i attends to token j. The matrix beside this text shows the scores they are made from, then "
            "(from step 7) the weights themselves; each step points at the part it explains.",
        ]
    )
    return Step(1, STEP_TITLES[0], markdown, Highlight(), "scores")


def tokens_step(r: _Run) -> Step:
    limit = 16
    if r.run.ids is not None:
        pairs = ", ".join(f"{token_code(t)} → {i}" for t, i in zip(r.tokens[:limit], r.run.ids[:limit]))
        about = (
            "GPT-2's byte-pair encoder splits the text into pieces: whole words, parts of words, or single bytes. "
            "A piece usually carries its leading space (␣). Each piece has an id in the vocabulary of 50,257:"
        )
    else:
        pairs = ", ".join(token_code(t) for t in r.tokens[:limit])
        about = "This table labels its rows itself, so these tokens have no GPT-2 ids:"
    more = f", … ({r.count} tokens in all)" if r.count > limit else ""
    markdown = "\n".join([about, "", pairs + more, "", f"T = {r.count} tokens."])
    d, t = r.dim, r.count
    choices = (
        f"{t} × {d}: a row per token, a column per dimension",
        f"{t} × {t}: a row per token, a column per token",
        f"{d} × {d}: a row and a column per dimension",
    )
    why = (
        f"Every token, as a query, is scored against every token as a key, itself included: {t} × {t} = {t * t} "
        f"numbers. The {d} dimensions of the embeddings are summed away inside each dot product."
    )
    question = Question("How many rows and columns will the attention matrix have?", choices, 1, why)
    return Step(2, STEP_TITLES[1], markdown, Highlight(), "scores", question)


def embeddings_step(r: _Run) -> Step:
    rows = min(r.count, SHOWN)
    cols = min(r.dim, 6)
    header = "| i | token | " + " | ".join(f"x_{c + 1}" for c in range(cols)) + (" | … |" if r.dim > cols else " |")
    lines = [header, "|---:|---|" + "---:|" * cols + ("---|" if r.dim > cols else "")]
    for i in range(rows):
        values = " | ".join(num(float(v)) for v in r.inputs[i, :cols].tolist())
        lines.append(f"| {i + 1} | {token_code(r.tokens[i])} | {values} |" + (" … |" if r.dim > cols else ""))
    if r.count > rows:
        lines.append(f"| … | ({r.count - rows} more) | " + " | ".join("" for _ in range(cols)) + " |")
    if r.run.source == "random":
        honest = (
            f"**These vectors are random.** The app draws them as `torch.manual_seed({r.run.seed}); "
            f"torch.nn.Embedding(50257, {r.dim})`, a table no training has touched, so they carry no meaning: "
            "which tokens come out close is chance. Trained GPT-2 embeddings would place related words in related "
            "directions; that is the sense in which the lecture says embeddings capture meaning."
        )
    elif tuple(r.inputs.shape) == (6, 3):
        honest = (
            "**These are the book's numbers**, chosen by hand for the example, not learned: no training produced "
            "them, so any closeness between two words here is how the example was written."
        )
    else:
        honest = "**This is your own table**: its vectors mean whatever you put into them."
    markdown = "\n".join(
        [
            rf"Each token id picks one row of an embedding table: a vector \(x^{{(i)}} \in \mathbb{{R}}^{{d}}\), "
            f"here with d = {r.dim} numbers.",
            "",
            *lines,
            "",
            honest,
        ]
    )
    return Step(3, STEP_TITLES[2], scroll_tables(markdown), Highlight(), "scores")


def query_step(r: _Run) -> Step:
    n = r.n
    markdown = "\n".join(
        [
            f"Take token {n}, {r.tok(r.q)}, as the **query**: the token that asks which others matter to it. "
            f"Its vector is \\(x^{{({n})}} = {latex_vector(r.inputs[r.q])}\\).",
            "",
            f"The next steps compute row {n} of the matrix (highlighted): one score and one weight for each key j, "
            f"then the context vector",
            rf"$$z^{{({n})}} = \alpha_{{{r.ij(n, 1)}}} x^{{(1)}} + \alpha_{{{r.ij(n, 2)}}} x^{{(2)}} + \dots + "
            rf"\alpha_{{{r.ij(n, 'T')}}} x^{{(T)}}$$",
        ]
    )
    weights = r.weights[r.q].tolist()
    keys = _candidates(weights, include=(r.q,))
    best = max(keys, key=lambda j: weights[j])
    ranked = sorted(range(r.count), key=lambda j: -weights[j])
    runner = ranked[1] if r.count > 1 else ranked[0]
    why = (
        f"Row {n}'s largest weight is \\(\\alpha_{{{r.ij(n, best + 1)}}} = {num(weights[best])}\\), for {r.tok(best)}"
        + (f"; next comes {r.tok(runner)} with {num(weights[runner])}." if r.count > 1 else ", the only key.")
        + " Softmax keeps the order of the scores, so it is also the key with the largest score."
    )
    question = Question(
        f"Which key will query {n} attend to most?",
        tuple(r.plain(j) for j in keys),
        keys.index(best),
        why,
    )
    return Step(4, STEP_TITLES[3], markdown, Highlight(rows=(r.q,)), "scores", question)


def scores_step(r: _Run) -> Step:
    from .vectors import aligned_figure  # the only figure of the lecture: loaded with its step

    n, q, k = r.n, r.q, r.k
    m = k + 1
    scores = r.scores[q].tolist()
    pair = alignment(r.inputs[q], r.inputs[k])
    own = alignment(r.inputs[q], r.inputs[q])
    reach = pair.norm_b * pair.cosine  # how far x^(k) reaches along x^(q)
    diagonal_wins = own.score >= pair.score
    lines = [
        "Each **attention score** is a dot product of the query with one input, the key:",
        rf"$$\omega_{{{r.ij(n, 'j')}}} = x^{{({n})}} \cdot x^{{(j)}} = "
        rf"\sum_{{i=1}}^{{d}} x^{{({n})}}_i \, x^{{(j)}}_i$$",
        f"Row {n}: {_values(scores)}.",
        "",
        f"For key {r.tok(k)}, the query's highest-scoring other key: "
        f"{dot_expansion(r.inputs[q], r.inputs[k], scores[k])}.",
        "",
        r"The dot product measures **how aligned** two vectors are, scaled by how long they are: "
        r"\(a \cdot b = \lVert a \rVert \, \lVert b \rVert \cos\theta\), where \(\cos\theta\) is 1 for the same "
        "direction, 0 at a right angle and −1 for opposite directions. Here (lengths and cosine computed in "
        "float64 from the float32 inputs):",
        rf"$$\omega_{{{r.ij(n, m)}}} = \lVert x^{{({n})}} \rVert \, \lVert x^{{({m})}} \rVert \cos\theta = "
        rf"{_six(pair.norm_a)} \cdot {_six(pair.norm_b)} \cdot {_six(pair.cosine)} "
        rf"= {tex(pair.score)}$$",
        rf"with \(\theta = {num(pair.degrees, decimals=1)}^\circ\). The query's score with itself has "
        rf"\(\cos\theta = 1\): \(\omega_{{{r.ij(n, n)}}} = \lVert x^{{({n})}} \rVert^2 = {tex(own.score)}\).",
        "",
    ]
    if k == q:
        lines.append("With a single token, the query's only key is itself.")
    elif diagonal_wins:
        lines.append(
            rf"So the query beats key {m} with itself exactly when \(\lVert x^{{({m})}} \rVert \cos\theta\) "
            rf"(how far the key reaches along the query, {num(reach)}) is at most \(\lVert x^{{({n})}} \rVert\) "
            f"({num(own.norm_a)}). Here it is, so token {n}'s top score is its own."
        )
    else:
        lines.append(
            rf"So the query beats key {m} with itself exactly when \(\lVert x^{{({m})}} \rVert \cos\theta\) "
            rf"(how far the key reaches along the query, {num(reach)}) is at most \(\lVert x^{{({n})}} \rVert\) "
            f"({num(own.norm_a)}). Here it is not: key {m} is long enough, and aligned enough, to score higher."
        )
    figure = aligned_figure(r.inputs[q], r.inputs[k], query=q, key=k, tokens=r.tokens) if r.dim <= 3 else ""
    if not figure:
        lines += ["", f"(With d = {r.dim}, the two vectors are not drawn: the picture is for d = 2 or 3.)"]
    # The question looks ahead: sum normalization divides this row by its sum.
    shares = r.steps.sum_normalized.tolist()
    inside = all(0.0 <= s <= 1.0 for s in shares)
    low, high = min(shares), max(shares)
    total = float(r.steps.scores.double().sum())
    if inside:
        why = (
            f"Every score of row {n} is positive (the smallest is {num(min(scores))}), so dividing each by their "
            f"sum {num(total)} gives shares between 0 and 1: here from {num(low)} to {num(high)}."
        )
    else:
        why = (
            f"Row {n}'s scores run from {num(min(scores))} to {num(max(scores))}, and their sum is {num(total)}: "
            f"dividing by it gives “weights” from {num(low)} to {num(high)}, outside 0 to 1."
        )
    question = Question(
        f"Next, sum normalization divides each score of row {n} by the row's sum. Will every weight stay between "
        "0 and 1?",
        ("Yes", "No"),
        0 if inside else 1,
        why,
    )
    highlight = Highlight(cells=((q, k), (q, q)) if k != q else ((q, q),))
    return Step(5, STEP_TITLES[4], "\n".join(lines), highlight, "scores", question, figure)


def sum_normalization_step(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    shares = steps.sum_normalized.tolist()
    limit = exp_overflow_threshold("float32")
    largest = float(steps.scores.max())
    markdown = "\n".join(
        [
            "The simplest way to turn scores into weights: divide each by the row's sum.",
            rf"$$\alpha'_{{{r.ij(n, 'j')}}} = \frac{{\omega_{{{r.ij(n, 'j')}}}}}{{\sum_{{k=1}}^{{T}} "
            rf"\omega_{{{r.ij(n, 'k')}}}}}$$",
            f"Row {n}: {_values(shares)}; they sum to {num(float(steps.sum_normalized.double().sum()))}.",
            "",
            "Weights that sum to 1 can be read as shares of attention, which is why the chapter normalizes. "
            "But nothing keeps them between 0 and 1: a negative score gives a negative share. Softmax, next, keeps "
            "every weight between 0 and 1 whatever the signs of the scores.",
        ]
    )
    why = f"Row {n}'s largest score is {num(largest)}. In float32, \\(e^x\\) is finite only up to x ≈ {limit:.2f}" + (
        "; here an exponential (or their sum) is inf, and inf / inf is NaN."
        if steps.overflows
        else ", so every \\(e^{\\omega}\\) of this row is finite, and so is their sum."
    )
    question = Question(
        f"Next, naive softmax takes the exponential of each score of row {n} in float32. Will it overflow?",
        ("Yes: some exponential is infinite", "No: every exponential is finite"),
        0 if steps.overflows else 1,
        why,
    )
    return Step(6, STEP_TITLES[5], markdown, Highlight(rows=(r.q,)), "scores", question)


def naive_softmax_step(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    limit = exp_overflow_threshold("float32")
    lines = [
        "Softmax exponentiates every score, then divides by the sum of the exponentials:",
        rf"$$\alpha_{{{r.ij(n, 'j')}}} = \frac{{e^{{\omega_{{{r.ij(n, 'j')}}}}}}}{{\sum_{{k=1}}^{{T}} "
        rf"e^{{\omega_{{{r.ij(n, 'k')}}}}}}} = "
        rf"\frac{{e^{{\omega_{{{r.ij(n, 'j')}}}}}}}{{e^{{\omega_{{{r.ij(n, 1)}}}}} + "
        rf"e^{{\omega_{{{r.ij(n, 2)}}}}} + \dots + e^{{\omega_{{{r.ij(n, 'T')}}}}}}}$$",
        "Every exponential is positive, so every weight is between 0 and 1, and they sum to 1, whatever the signs of "
        "the scores; a larger score never gets a smaller weight.",
        "",
    ]
    if steps.overflows:
        lines.append(
            f"On row {n} the largest score is {num(float(steps.scores.max()))}, above float32's limit ≈ {limit:.2f} "
            "for \\(e^x\\): the naive version gives " + _values(steps.naive.tolist()) + ". The next step fixes it."
        )
    else:
        lines += [
            f"Row {n}'s exponentials (in float64): {_values(steps.exps.tolist(), 'float64')}; "
            f"their sum is {num(steps.exp_sum, dtype='float64')}.",
            "",
            f"Weights: {_values(steps.naive.tolist())}.",
        ]
        top = int(steps.scores.argmax())
        lines += [
            "",
            f"The largest score, key {r.tok(top)}, gets {num(float(steps.naive[top]))} here, against "
            f"{num(float(steps.sum_normalized[top]))} from sum normalization.",
        ]
    return Step(7, STEP_TITLES[6], "\n".join(lines), Highlight(rows=(r.q,)), "weights")


def torch_softmax_step(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    m = float(steps.scores.max())
    lines = [
        "`torch.softmax(attn_scores_2, dim=0)` computes the same weights, but first subtracts the row's largest "
        "score m:",
        rf"$$\alpha_{{{r.ij(n, 'j')}}} = \frac{{e^{{\omega_{{{r.ij(n, 'j')}}} - m}}}}{{\sum_{{k=1}}^{{T}} "
        rf"e^{{\omega_{{{r.ij(n, 'k')}}} - m}}}}, \qquad m = \max_k \omega_{{{r.ij(n, 'k')}}} = {tex(m)}$$",
        r"The factor \(e^{-m}\) is in the numerator and in every term of the denominator, so it cancels: the weights "
        "are unchanged, but every exponent is now at most 0, so no exponential can overflow.",
        "",
        f"Row {n}: {_values(steps.weights.tolist())}; they sum to {num(float(steps.weights.double().sum()))}.",
    ]
    if not steps.overflows:
        difference = float((steps.weights.double() - steps.naive.double()).abs().max())
        lines += [
            "",
            "The largest difference from the naive version on this row is "
            + ("0: the same float32 numbers." if difference == 0 else f"{difference:.1e}, float32 rounding.")
            + " Matrix rows are normalized the same way (`dim=-1`).",
        ]
    return Step(8, STEP_TITLES[7], "\n".join(lines), Highlight(rows=(r.q,)), "weights")
