"""The temperature control: a logarithmic τ track with a number box and presets, drawn in the browser by
web/tau-core.js (the arithmetic, tested by node) and web/tau.js (the DOM), with web/tau.css."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

HERE = Path(__file__).resolve().parent
TAU_JS = "\n".join((HERE / name).read_text(encoding="utf-8") for name in ("tau-core.js", "tau.js"))
TAU_CSS = (HERE / "tau.css").read_text(encoding="utf-8")


def temperature_control(*, elem_id: str, value: float = 1.0, **kwargs: Any) -> gr.HTML:
    """τ as a gr.HTML whose value is a number. A learner's change fires ``input`` (wire the matrix's redraw to it);
    a value from the server only moves the controls. A factory, not a subclass: Gradio writes a .pyi stub beside
    the module of every Component subclass."""
    return gr.HTML(
        value=value,
        html_template='<div class="tau" data-tau-control></div>',
        css_template=TAU_CSS,
        js_on_load=TAU_JS,
        apply_default_css=False,
        elem_id=elem_id,
        **kwargs,
    )
