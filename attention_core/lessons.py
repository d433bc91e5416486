"""The lessons' fixed texts, and the source code the app shows. Nothing here imports torch.

The app builds its page from these, so the page can be served before torch is imported.
"""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

# The largest finite value of each dtype, as torch.finfo reports it.
DTYPE_MAX = {"float16": 65504.0, "float32": 3.4028234663852886e38, "float64": sys.float_info.max}
# The largest x with exp(x) finite: ≈ 11.09, 88.72 and 709.78.
EXP_OVERFLOW = {name: math.log(largest) for name, largest in DTYPE_MAX.items()}


def function_source(module: str, name: str) -> str:
    """The source of top-level function ``name`` in ``attention_core/<module>.py``, read without importing it.

    >>> function_source("attention", "attention_scores").splitlines()[0]
    'def attention_scores(inputs: torch.Tensor) -> torch.Tensor:'
    """
    path = Path(__file__).with_name(f"{module}.py")
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(text, node) or ""
    raise KeyError(f"{name} is not a function in {path.name}")


def code_of_both() -> tuple[str, str]:
    """The source of the loop version and of the matrix version, as shown to learners."""
    return function_source("attention", "self_attention_loops"), function_source("attention", "self_attention")


LAB_FORMULAS = rf"""
**Sum normalization** divides by the total:
$$\alpha_i = \frac{{\omega_i}}{{\sum_{{j=1}}^{{n}} \omega_j}}$$
It fails when the scores sum to 0, and it gives negative "weights" when a score is negative.

**Naive softmax** exponentiates first, so every weight is positive and the weights sum to 1:
$$\alpha_i = \frac{{\exp(\omega_i)}}{{\sum_{{j=1}}^{{n}} \exp(\omega_j)}}$$
But \(\exp\) overflows: the largest finite input is ≈ {EXP_OVERFLOW["float16"]:.2f} in float16,
{EXP_OVERFLOW["float32"]:.2f} in float32 and {EXP_OVERFLOW["float64"]:.2f} in float64.
Past it, \(\exp(\omega_i)\) is inf and inf / inf is NaN. Very negative scores underflow to 0 instead, and 0 / 0 is NaN too.

**Stable softmax** subtracts the largest score \(m = \max_j \omega_j\) first:
$$\alpha_i = \frac{{\exp(\omega_i - m)}}{{\sum_{{j=1}}^{{n}} \exp(\omega_j - m)}}$$
This is the same function, because \(e^{{-m}}\) multiplies the top and the bottom and cancels. Now the largest
exponential is \(\exp(0) = 1\), so nothing overflows, and the sum is at least 1, so nothing divides by 0.
`torch.softmax` does exactly this.

**Why normalize at all?** Weights that sum to 1 make each context vector a weighted *average* of the inputs,
whatever the scale of the scores, and they can be read as "how much attention goes where".
**Why softmax?** It keeps every weight positive, it keeps the order of the scores, and it stretches the gaps:
a slightly larger score gets a clearly larger weight.
"""


WHY_TRAINABLE = r"""
Without trainable weights, the score of a token with itself is \(\omega_{ii} = x^{(i)} \cdot x^{(i)} = \lVert x^{(i)} \rVert^2\).
A dot product is largest when the two vectors point the same way, so a token's best match is usually itself,
and the heatmap has a bright diagonal. In *The cat sat on the mat because it is warm*, we would like
`it` to attend to `mat`, but it cannot learn to: nothing here can be learned. And because each score
depends only on the two vectors, the word order carries no information at all.

The next step in chapter 3 projects each input into a **query** \(q = x W_q\), a **key** \(k = x W_k\) and a
**value** \(v = x W_v\) with trainable matrices, and scores \(\omega_{ij} = q^{(i)} \cdot k^{(j)}\). Training
can then make `it` look for `mat` without making `mat` look for `it`.
"""
