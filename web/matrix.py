"""The attention matrix, drawn in the browser from a run's numbers: a gr.HTML of web/matrix-core.js and
web/matrix.js joined into one script, and web/matrix.css (read once, here), and the listener code that talks to it.
web/matrix.js documents the value it draws."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np
import orjson

import attention_core as ac
from attention_core.views.serialize import shortest_floats

if TYPE_CHECKING:  # annotations only: the app imports this before torch
    import torch

    from attention_core import SelfAttention

HERE = Path(__file__).resolve().parent
# One script: the pure core (tested by node: web/matrix-core.test.mjs) first, then the view that uses it.
MATRIX_JS = "\n".join((HERE / name).read_text(encoding="utf-8") for name in ("matrix-core.js", "matrix.js"))
MATRIX_CSS = (HERE / "matrix.css").read_text(encoding="utf-8")


def attention_matrix(*, elem_id: str, selectable: bool = True, **kwargs: Any) -> gr.HTML:
    """A T × T attention matrix that the browser draws from ``matrix_value``'s numbers.

    Hover or keyboard focus explains a cell. Enter or a click fires ``select`` with ``index = [row, col]``
    (unless ``selectable=False``). After ``matrix_js(matrix, "setTau(value)")`` it redraws at once and fires
    ``tau_settled`` once τ has rested, for the server's follow-up. A factory rather than a gr.HTML subclass:
    Gradio writes a .pyi stub beside the module of every Component subclass.
    """
    return gr.HTML(
        html_template='<div class="am" data-attention-matrix></div>',
        css_template=MATRIX_CSS,
        js_on_load=MATRIX_JS,
        apply_default_css=False,
        elem_id=elem_id,
        selectable=selectable,
        **kwargs,
    )


def matrix_js(matrix: gr.HTML, call: str) -> str:
    """The js of a listener that makes ``call`` (e.g. ``"setTau(value)"``) on what web/matrix.js exposes."""
    found = json.dumps(f"#{matrix.elem_id} [data-attention-matrix]")  # this component only, by its elem_id
    return f"(value) => {{ document.querySelector({found})?.attentionMatrix?.{call}; }}"


# --- the wire format: what web/matrix.js reads (its header documents the same value) ---------------


def packed_floats(matrix: torch.Tensor) -> str:
    """A matrix, row by row, as one string of shortest float32 decimals: ``"0.9544 1.495 ..."``; ``null`` when
    not finite.

    One string, not nested lists: Gradio's frontend makes every list element of a value a reactive proxy, and at
    T = 256 two lists of 65,536 numbers blocked the page for seconds (benchmarks/bench_ui.py).

    >>> import torch
    >>> packed_floats(torch.tensor([[0.43, float("inf")], [1 / 3, 0.0]]))
    '0.43 null 0.33333334 0.0'
    """
    array = matrix.detach().cpu().numpy().reshape(-1)
    if array.dtype == np.float32:  # orjson writes float32 shortest, and NaN and ±inf as null: no list in between
        text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY).decode()
    else:
        text = orjson.dumps(shortest_floats(matrix.reshape(-1))).decode()
    return text[1:-1].replace(",", " ")


def matrix_value(
    tokens: Sequence[str],
    ids: Sequence[int] | None,
    attention: SelfAttention,
    *,
    raw_scores: bool = False,
    caption: str | None = None,
) -> dict:
    """What the page's live matrix (web/matrix.js) draws for a run: visible tokens, ω and α as packed floats,
    τ, and which one colours the cells."""
    return {
        "tokens": [ac.visible_token(token) for token in tokens],
        "ids": ids,
        "scores": packed_floats(attention.scores),
        "weights": packed_floats(attention.weights),
        "tau": float(attention.temperature),
        "view": "scores" if raw_scores else "weights",
        "caption": caption,
    }
