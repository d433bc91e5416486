"""The named API, also the MCP tools: tokenize, attend and normalize. Gradio names an endpoint and a tool after
its function, and reads the docstring's Args for the parameters' descriptions (in view_api() and the MCP schema),
so these docstrings are what a script or an assistant reads."""

from __future__ import annotations

from typing import Literal

import attention_core as ac
from attention_core.views.lab import comparison_json
from attention_core.views.serialize import attended_json

from .errors import user_errors

# The seeded random table's defaults: the book's d = 3, and the seed of its notebook.
DEFAULT_DIM = 3
DEFAULT_SEED = 123


@user_errors
def tokenize(text: str) -> dict:
    """Tokenize text with GPT-2's BPE tokenizer (tiktoken, offline).

    Args:
        text: The text to tokenize: 1 to 10,000 characters, at most 256 GPT-2 tokens. "<|endoftext|>" is token 50256.

    Returns:
        {"ids": [int, ...], "tokens": [str, ...]}: one id and one text piece per token.
    """
    text = ac.check_text(text)
    tokens = ac.tokenize(text)
    ac.check_token_count(len(tokens.ids))
    return {"ids": tokens.ids, "tokens": tokens.tokens}


@user_errors
def attend(text: str, dim: int = DEFAULT_DIM, seed: int = DEFAULT_SEED, table: str = "") -> dict:
    """Weight-free self-attention (chapter 3.3): scores ω = X Xᵀ, weights α = softmax(ω) row by row, context Z = α X.

    The answer holds T×d + T×T + T×T + T×d numbers for T tokens and d dimensions: at the limits (256 tokens,
    d = 768) that is about 6 MB of JSON, 4 MB of it the two T×d matrices. Keep it small with a short text and a
    small dim: 10 tokens at d = 3 is about 3.5 kB.

    Args:
        text: The sentence: 1 to 10,000 characters, at most 256 GPT-2 tokens ("" if the table has a label column).
        dim: Embedding dimension d of the seeded random table, 1 to 768 (ignored when a table is given).
        seed: Seed of the random table, 0 to 4294967295, as in torch.manual_seed(seed); torch.nn.Embedding(50257, dim).
        table: Optional embeddings, a row per token (CSV, JSON, torch.tensor): at most 256 rows, 768 columns and 1 MB.

    Returns:
        {"tokens", "ids", "inputs" (T×d), "scores" (T×T), "weights" (T×T), "context" (T×d)}: shortest float32 decimals.
    """
    return attended_json(ac.attend(text, dim=dim, seed=seed, table=table))


@user_errors
def normalize(values: str, dtype: Literal["float16", "float32", "float64"] = "float32") -> dict:
    """Sum normalization, naive softmax and stable softmax side by side, in one dtype.

    Args:
        values: 1 to 1,000 numbers separated by commas or spaces, e.g. "1, 2, 3, 400". -inf is allowed (a masked score).
        dtype: The floating-point type to compute in: float16, float32 or float64.

    Returns:
        {"values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"}: NaN and inf are null, notes say why.
    """
    return comparison_json(ac.compare_normalizations(values, dtype))
