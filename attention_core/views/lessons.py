"""The lessons' fixed texts, and the code the page shows. Nothing here imports torch.

The app builds its page from these, so the page can be served before torch is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1]

INTRO = (
    "# Self-attention without trainable weights\n"
    "Chapter 3.3 of *Build a Large Language Model (From Scratch)*, live: scores \\(\\omega = X X^\\top\\), "
    "weights \\(\\alpha = \\operatorname{softmax}(\\omega)\\) row by row, context vectors \\(Z = \\alpha X\\)."
)

MATRIX_HINT = (
    "Hover over a cell, or focus the matrix and use the arrow keys, to read its numbers; click it or press Enter to "
    "trace it beside the matrix."
)

# Beside the embeddings' source: the seeded vectors are random (the lecture says embeddings carry meaning).
RANDOM_EMBEDDINGS = (
    "Seeded random vectors carry no meaning: which tokens come out close is chance. Trained GPT-2 embeddings would "
    "place related words in related directions."
)

CONVEX_HULL = (
    "**Convex combinations.** Each context vector is a weighted average with weights ≥ 0 that sum to 1, so it lies "
    "inside the convex hull of the inputs. For d = 3 the figure is 3-D, with a line from each input "
    "to its context vector; otherwise it is a 2-D projection with the inputs' hull outlined and an arrow from each "
    "input to its context vector, which never leaves the outline."
)

# The book's matrix version (section 3.3.2), exactly as the notebook writes it; tests run it against the core.
BOOK_MATRIX_CODE = """\
attn_scores = inputs @ inputs.T                    # (T, d) @ (d, T) -> (T, T)
attn_weights = torch.softmax(attn_scores, dim=-1)  # each row sums to 1
all_context_vecs = attn_weights @ inputs           # (T, T) @ (T, d) -> (T, d)"""


def function_source(module: str, name: str) -> str:
    """The source of top-level function ``name`` in ``attention_core/<module>.py``, read without importing it.

    >>> function_source("attention", "attention_scores").splitlines()[0]
    'def attention_scores(inputs: torch.Tensor) -> torch.Tensor:'
    """
    path = CORE / f"{module}.py"
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(text, node) or ""
    raise LookupError(f"{name} is not a function in {path.name}")


def code_of_both() -> tuple[str, str]:
    """The loop version (our function, the chapter's loops) and the book's three matrix lines."""
    return function_source("attention", "self_attention_loops"), BOOK_MATRIX_CODE


WHY_TRAINABLE = r"""
Without trainable weights, a token's score with itself is
\(\omega_{ii} = x^{(i)} \cdot x^{(i)} = \lVert x^{(i)} \rVert^2\), and every score depends only on the two vectors.
So attention here can only follow how similar the embeddings already are: nothing can be learned. In *The cat sat
on the mat because it is warm*, the lecture asks where `warm` should look; below, it looks wherever its random
embedding happens to point.

The next step in chapter 3 projects each input into a **query** \(q = x W_q\), a **key** \(k = x W_k\) and a
**value** \(v = x W_v\) with trainable matrices, and scores \(\omega_{ij} = q^{(i)} \cdot k^{(j)}\). The scores are
then no longer symmetric: \(q^{(i)} \cdot k^{(j)}\) need not equal \(q^{(j)} \cdot k^{(i)}\). (The weights are not
symmetric even without projections, because each row is normalized on its own; below, this run shows both.)
Training decides where each token looks. What projections cannot do is tell two copies of a token apart or see
word order: identical inputs give identical queries, keys and values. That takes where the tokens stand:
positional embeddings (chapter 2), or the causal mask of section 3.5, which lets each token see only the tokens
before it.

The table below also applies W_q and W_k drawn at random: they are **untrained**, so they show only that
projections move the weights, not where the weights should go. Training is what gives W_q and W_k their meaning:
the next panel, **Watch the weights learn**, trains them on this sentence until `warm` attends to `mat`.
"""

# The "Watch the weights learn" panel (web/training_panel.py): what it does, and what it does not show.
TRAINING_INTRO = (
    "Pick a query and the key it should attend to, and press **Train**. Adam adjusts two trainable matrices, "
    r"W_query and W_key (d × d), so that the scores \((x_q W_{\text{query}})(X W_{\text{key}})^\top / \sqrt{d}\) "
    r"give that key the largest weight: the loss is \(-\log \alpha(\text{query} \to \text{key})\). Training starts "
    "from W_query = W_key = I, this chapter's weight-free attention (at τ = √d), on the run above."
)

TRAINING_EXPLANATION = (
    "**What this shows, and what it does not.**\n\n"
    "- It trains **one pair on one sentence**: W_query and W_key are pushed until this query attends to this key, "
    "whatever that does to the other rows. A real model learns W_query, W_key and W_value together from billions of "
    "tokens, to predict the next token; no one tells it which token should attend to which.\n"
    "- With **W_query = W_key = I** the scores are x_q · x_j / √d: this chapter's weight-free "
    "attention at temperature τ = √d (press **τ = √d** above to see that row). The first checkpoint, before any "
    "step, is exactly that row.\n"
    "- **Section 3.4** adds the third matrix, W_value, which projects what each token passes on to the context "
    "vectors, and explains the division by √d_k used here."
)
