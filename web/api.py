"""The named API, also the MCP tools: tokenize, attend, normalize and train. Gradio names an endpoint and a tool after
its function, and reads the docstring's Args for the parameters' descriptions (in view_api() and the MCP schema),
so these docstrings are what a script or an assistant reads."""

from __future__ import annotations

import inspect
from typing import Literal, TypedDict

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
        text: The sentence: 1 to 10,000 characters, at most 256 GPT-2 tokens. May be "" when the table has a label column.
        dim: Embedding dimension d of the seeded random table, 1 to 768 (ignored when a table is given).
        seed: Seed of the random table, 0 to 4294967295, as in torch.manual_seed(seed); torch.nn.Embedding(50257, dim).
        table: Optional embedding table replacing the random one, one row per token (CSV, TSV, JSON [[...]] or torch.tensor([...])): at most 256 rows, 768 columns and 1 MB.

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
        {"values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"}: NaN and inf are null; notes explain them.
    """
    return comparison_json(ac.compare_normalizations(values, dtype))


class TrainAnswer(TypedDict):
    """The /train answer (see ``train``)."""

    tokens: list[str]
    query: int
    key: int
    steps: int
    learning_rate: float
    loss: list[float]
    weights_before: list[float]
    weights_after: list[float]
    w_query: list[list[float]]
    w_key: list[list[float]]
    checkpoint_steps: list[int]
    checkpoint_weights: list[list[float]]


@user_errors
def train(
    text: str, query: int, key: int, dim: int = DEFAULT_DIM, seed: int = DEFAULT_SEED, steps: int = 100
) -> TrainAnswer:
    """Train a query and a key projection (section 3.4's W_query and W_key, d × d) so that one token attends to another.

    Scores are (x_q W_query)(X W_key)ᵀ / √d for the query token q, the loss is −log α(query → key), and Adam
    (learning rate 0.1) takes `steps` steps in float64 from W_query = W_key = I, where this is chapter 3.3's
    weight-free attention at temperature √d. One pair on one sentence: a demonstration, not a language model.

    The answer holds 3(steps + 1) + 2T + 11T + 2d² numbers, about 2d² of them the matrices: 10 tokens at d = 3 and
    100 steps is about 3 kB; at the limits (256 tokens, d = 768) about 13 MB of JSON, nearly all W_query and W_key.

    Args:
        text: The sentence: 1 to 10,000 characters, at most 256 GPT-2 tokens.
        query: The token that attends, counted from 1 as the page counts tokens (1 to the number of tokens).
        key: The token it should attend to, counted from 1 (1 to the number of tokens; may equal query).
        dim: Embedding dimension d of the seeded random table, 1 to 768; W_query and W_key are d × d.
        seed: Seed of the random table, 0 to 4294967295, as in torch.manual_seed(seed); torch.nn.Embedding(50257, dim).
        steps: Adam steps, 1 to 500.

    Returns:
        {"tokens", "query", "key", "steps", "learning_rate", "loss" (steps + 1: loss[t] after t steps),
        "weights_before", "weights_after" (T each: the query's attention weights), "w_query", "w_key" (d×d),
        "checkpoint_steps" (up to 11), "checkpoint_weights" (one row of T per checkpoint)}: shortest float32 decimals.
    """
    from attention_core.views.training import training_json  # with the figures: torch and numpy, not at import

    run = ac.attend(text, dim=dim, seed=seed)
    count = len(run.tokens)
    query_index = ac.check_position(query, "query", count)
    key_index = ac.check_position(key, "key", count)
    result = ac.train_query_key(run.attention.inputs, query_index, key_index, steps=steps)
    return training_json(run.tokens, result)  # type: ignore[return-value]


# Gradio reads the return type from the signature: resolved here, so view_api() and MCP see TrainAnswer, not a string.
train.__signature__ = inspect.signature(train, eval_str=True)  # type: ignore[attr-defined]
