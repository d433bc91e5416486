"""The smallest Gradio 6 app that does what our named API does, as a floor for ``bench_app.py``.

Two endpoints, with the same queue settings as app.py and nothing else:

- ``/echo(text)`` returns ``{"text": text}``: the cost of one request through Gradio.
- ``/lab(values, dtype)`` returns a precomputed dict shaped like ``/normalize``'s response for as many
  values as it is sent (four lists of floats and three notes): Gradio's floor for moving the lab's answer.
- ``/payload(tokens, dim)`` returns a precomputed dict shaped like ``/attend``'s response at that
  size (tokens, ids, inputs (T, d), scores (T, T), weights (T, T), context (T, d)), with float32
  data turned into Python floats by ``.tolist()``: the naive float64-repr size, so this is the cost
  of moving that much data through Gradio.

Gradio copies every block's config into each new session, and each API call is a session of its own, so the
floor page has as many blocks as ours: FLOOR_BLOCKS (bench_app.py counts ``app.demo.blocks`` and sets it),
made up with hidden Markdown blocks.

Run it with ``python benchmarks/floor_app.py``; host and port come from GRADIO_SERVER_NAME /
GRADIO_SERVER_PORT. It never imports app.py, so it stays a floor whatever app.py does; its queue settings are
``harness.FLOOR_QUEUE``.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402

harness.no_telemetry()

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

MAX_TOKENS = 256
MAX_DIM = 768


def echo(text: str) -> dict:
    """Return {"text": text}."""
    return {"text": text}


@functools.lru_cache(maxsize=4)
def _payload(tokens: int, dim: int) -> dict:
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((tokens, dim), dtype=np.float32)  # (T, d)
    scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)  # (T, T)
    context = weights @ inputs  # (T, T) @ (T, d) -> (T, d)
    return {
        "tokens": [f" word{i}" for i in range(tokens)],
        "ids": [int(i) for i in rng.integers(0, 50257, tokens)],
        "inputs": inputs.tolist(),
        "scores": scores.tolist(),
        "weights": weights.tolist(),
        "context": context.tolist(),
    }


@functools.lru_cache(maxsize=4)
def _lab(count: int) -> dict:
    rng = np.random.default_rng(1)
    values = rng.standard_normal(count).astype(np.float32)
    weights = np.exp(values - values.max())
    weights /= weights.sum()
    return {
        "values": values.tolist(),
        "sum_normalized": (values / values.sum()).tolist(),
        "softmax_naive": weights.tolist(),
        "softmax_stable": weights.tolist(),
        "notes": ["A note of about this length, as the lab writes for its results."] * 3,
    }


def lab(values: str, dtype: str = "float32") -> dict:
    """A precomputed /normalize-shaped response with one entry per comma-separated value (cached per count)."""
    return _lab(max(1, min(values.count(",") + 1, 1000)))


def payload(tokens: int = 6, dim: int = 3) -> dict:
    """A precomputed /attend-shaped response of T = tokens and d = dim (cached per size)."""
    tokens, dim = int(tokens), int(dim)
    if not (1 <= tokens <= MAX_TOKENS and 1 <= dim <= MAX_DIM):
        raise gr.Error(f"tokens must be 1–{MAX_TOKENS} and dim 1–{MAX_DIM}.")
    return _payload(tokens, dim)


with gr.Blocks(title="Gradio floor", analytics_enabled=False) as demo:
    gr.Markdown("Floor app for benchmarks/bench_app.py")
    gr.api(echo, api_name="echo")
    gr.api(lab, api_name="lab")
    gr.api(payload, api_name="payload")
    while len(demo.blocks) < int(os.environ.get("FLOOR_BLOCKS", "0")):
        gr.Markdown(visible=False)
demo.queue(**harness.FLOOR_QUEUE)


if __name__ == "__main__":
    demo.launch()
