"""The attention matrix, drawn in the browser from a run's numbers: a gr.HTML of web/matrix-core.js and
web/matrix.js joined into one script, and web/matrix.css (read once, here), and the listener code that talks to it.
web/matrix.js documents the value it draws."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

HERE = Path(__file__).resolve().parent
# One script: the pure core (tested by node: web/matrix-core.test.mjs) first, then the view that uses it.
MATRIX_JS = "\n".join((HERE / name).read_text(encoding="utf-8") for name in ("matrix-core.js", "matrix.js"))
MATRIX_CSS = (HERE / "matrix.css").read_text(encoding="utf-8")


def attention_matrix(*, elem_id: str, selectable: bool = True, **kwargs: Any) -> gr.HTML:
    """A T × T attention matrix that the browser draws from ``views.serialize.matrix_value``'s numbers.

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
