"""The named API, also the MCP tools: tokenize, attend, normalize and train. Gradio names an endpoint and a tool after
its function, and reads the docstring's Args for the parameters' descriptions (in view_api() and the MCP schema),
so these docstrings are what a script or an assistant reads. In Python the endpoint is ``attend_endpoint`` (``attend``
is the core's, ``attention_core.attend``); it is served, and listed as a tool, as "attend".

Every endpoint is one line away from both: ``@endpoint`` above a typed function (see ``endpoint``).

No ``from __future__ import annotations`` here: Gradio reads a function's return annotation with
``inspect.signature``, which leaves a postponed annotation a string, and view_api() then says ``Any``.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal, TypedDict, TypeVar

import gradio as gr
import orjson

import attention_core as ac
from attention_core.views.lab import comparison_json
from attention_core.views.serialize import attended_json

from .errors import user_errors

# The seeded random table's defaults: the book's d = 3, and the seed of its notebook.
DEFAULT_DIM = 3
DEFAULT_SEED = 123

F = TypeVar("F", bound=Callable[..., Any])


class TokenizeAnswer(TypedDict):
    """/tokenize: one id and one text piece per token."""

    ids: list[int]
    tokens: list[str]


class AttendAnswer(TypedDict):
    """/attend: T tokens (ids None for a table's labels), inputs (T×d), scores and weights (T×T), context (T×d)."""

    tokens: list[str]
    ids: list[int] | None
    inputs: list[list[float]]
    scores: list[list[float]]
    weights: list[list[float]]
    context: list[list[float]]


class NormalizeAnswer(TypedDict):
    """/normalize: four columns of len(values) numbers each, None where NaN or inf, and notes explaining them."""

    values: list[float | None]
    sum_normalized: list[float | None]
    softmax_naive: list[float | None]
    softmax_stable: list[float | None]
    notes: list[str]


def called_by_mcp(request: gr.Request | None) -> bool:
    """Whether Gradio's own MCP server made this call.

    A Gradio internal, the only way to tell: Gradio 6.31's MCP server calls a queued tool through its own
    gradio_client, whose every request carries ``x-gradio-user: mcp`` (gradio/mcp.py); gradio_client otherwise
    sends ``api``, and a browser nothing. tests/e2e/test_mcp.py parses every tool's answer as JSON, so a Gradio
    that changes the header fails there. Non-queued endpoints bypass the header (none of ours is).
    """
    return request is not None and request.headers.get("x-gradio-user") == "mcp"


def mcp_text(answer: Any) -> str:
    """An answer as JSON text, NaN and ±inf as null (orjson's rule); floats keep their shortest decimals."""
    return orjson.dumps(answer).decode()


def endpoint(fn: F) -> F:
    """The named API's and the MCP tools' one wrapper: ``@endpoint`` above a fully typed function.

    - Refusals: the core's ``InputError`` becomes a message that says what to fix (``user_errors``).
    - MCP answers are JSON text: Gradio's MCP server would write a dict as its Python repr (``None``, single
      quotes). gradio_client and direct calls still receive the dict.
    - A ``request: gr.Request = None`` parameter is added to the signature Gradio sees: Gradio fills it in and
      keeps it out of view_api() and the MCP schema, so no client sees a new parameter.

    The function's own signature, return type (a TypedDict, which view_api() prints) and docstring are kept.
    """
    checked = user_errors(fn)
    signature = inspect.signature(fn)
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)
    seen = signature.replace(parameters=[*signature.parameters.values(), request])

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Gradio passes the request positionally, after the inputs.
        bound = seen.bind(*args, **kwargs)
        caller = bound.arguments.pop("request", None)
        answer = checked(*bound.args, **bound.kwargs)
        return mcp_text(answer) if called_by_mcp(caller) else answer

    wrapper.__signature__ = seen  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**fn.__annotations__, "request": gr.Request}
    return wrapper  # type: ignore[return-value]


@endpoint
def tokenize(text: str) -> TokenizeAnswer:
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


@endpoint
def attend_endpoint(text: str, dim: int = DEFAULT_DIM, seed: int = DEFAULT_SEED, table: str = "") -> AttendAnswer:
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
    """  # noqa: E501 (Gradio reads one line per parameter)
    return attended_json(ac.attend(text, dim=dim, seed=seed, table=table))  # type: ignore[return-value]


# Gradio names the endpoint and the MCP tool after the function's __name__: both stay "attend".
attend_endpoint.__name__ = "attend"


@endpoint
def normalize(values: str, dtype: Literal["float16", "float32", "float64"] = "float32") -> NormalizeAnswer:
    """Sum normalization, naive softmax and stable softmax side by side, in one dtype.

    Args:
        values: 1 to 1,000 numbers separated by commas or spaces, e.g. "1, 2, 3, 400". -inf is allowed (a masked score).
        dtype: The floating-point type to compute in: float16, float32 or float64.

    Returns:
        {"values", "sum_normalized", "softmax_naive", "softmax_stable", "notes"}: NaN and inf are null; notes explain them.
    """  # noqa: E501 (Gradio reads one line per parameter)
    return comparison_json(ac.compare_normalizations(values, dtype))  # type: ignore[return-value]


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


@endpoint
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
