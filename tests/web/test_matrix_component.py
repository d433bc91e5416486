"""web.matrix.attention_matrix, the gr.HTML of web/matrix.js and web/matrix.css, and its wiring in app.py (no browser).

The browser half (drawing, hover, keyboard, τ, axe-core) is in tests/e2e/test_matrix_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import unpacked

import app
import attention_core as ac
from web import matrix as web_matrix
from web.matrix import matrix_value


def viridis_in_the_js() -> list[str]:
    """The 256 rrggbb colours of the VIRIDIS string in web/matrix-core.js (joined into the component's script)."""
    match = re.search(r"const VIRIDIS =\s*((?:\"[0-9a-f]*\"\s*\+?\s*)+);", web_matrix.MATRIX_JS)
    assert match, "web/matrix-core.js has no VIRIDIS string"
    hex_digits = "".join(re.findall(r"\"([0-9a-f]*)\"", match.group(1)))
    assert len(hex_digits) == 256 * 6
    return [hex_digits[6 * i : 6 * i + 6] for i in range(256)]


def test_the_js_colormap_is_matplotlibs_viridis():
    """The browser and the PNG export colour with the same 256 colours."""
    from matplotlib import colormaps

    expected = np.rint(np.asarray(colormaps["viridis"].colors) * 255).astype(int)
    assert viridis_in_the_js() == ["".join(f"{c:02x}" for c in rgb) for rgb in expected]


@pytest.mark.parametrize("forbidden", ["`", "\\", "${", "{{"], ids=["backtick", "backslash", "dollar-brace", "braces"])
def test_the_css_survives_gradios_template_evaluation(forbidden):
    """Gradio runs css_template through Handlebars and a JS template string; none of these may appear."""
    assert forbidden not in web_matrix.MATRIX_CSS


def test_the_html_template_has_no_value_in_it():
    """Tokens are user text: the template never interpolates the value, the script sets text with textContent."""
    matrix = web_matrix.attention_matrix(elem_id="m", render=False)
    assert "$" not in matrix.html_template and "{{" not in matrix.html_template
    assert matrix.js_on_load == web_matrix.MATRIX_JS and matrix.css_template == web_matrix.MATRIX_CSS
    assert "innerHTML" not in web_matrix.MATRIX_JS and "insertAdjacentHTML" not in web_matrix.MATRIX_JS
    assert matrix.apply_default_css is False and matrix.props == {"selectable": True}


def test_no_pyi_stub_is_written_beside_app():
    """Gradio writes a .pyi beside the module of any Component subclass; a stale one would shadow the module."""
    assert not Path(app.__file__).with_suffix(".pyi").exists()
    assert not Path(web_matrix.__file__).with_suffix(".pyi").exists()


def test_the_listener_js_reaches_its_own_component_only():
    matrix = web_matrix.attention_matrix(elem_id="heat'map", render=False)
    js = web_matrix.matrix_js(matrix, "setTau(value)")
    assert js.startswith("(value) => {") and "document.querySelector(" in js
    assert json.dumps("#heat'map [data-attention-matrix]") in js and ".attentionMatrix?.setTau(value)" in js


def test_the_custom_event_is_declared_in_the_js():
    """gr.HTML finds custom events by their quoted name in js_on_load."""
    assert re.search(r"trigger\(\"tau_settled\"", web_matrix.MATRIX_JS)
    assert re.search(r"trigger\(\"select\"", web_matrix.MATRIX_JS)


# --- the wiring in app.demo ----------------------------------------------------------------------


def dependencies_on(block_id: int, event: str) -> list[dict]:
    config = app.demo.get_config_file()
    return [d for d in config["dependencies"] if [block_id, event] in [list(t) for t in d["targets"]]]


def block_id(elem_id: str) -> int:
    config = app.demo.get_config_file()
    return next(c["id"] for c in config["components"] if c["props"].get("elem_id") == elem_id)


def test_tau_input_redraws_in_the_browser_and_the_server_follows_the_settled_matrix():
    tau, heatmap = block_id("tau"), block_id("heatmap")
    inputs = dependencies_on(tau, "input")
    assert len(inputs) == 1 and inputs[0]["backend_fn"] is False and "setTau(value)" in inputs[0]["js"]
    assert dependencies_on(tau, "release") == []  # the keyboard sends no release: τ no longer hangs on it
    (follow,) = dependencies_on(heatmap, "tau_settled")  # the server follows the run's own inputs at the new τ
    assert app.demo.fns[follow["id"]].fn is app.follow_tau


def test_a_picked_cell_is_traced_and_the_view_switches_in_the_browser():
    heatmap = block_id("heatmap")
    (select,) = dependencies_on(heatmap, "select")
    assert app.demo.fns[select["id"]].fn is app.trace_select
    config = app.demo.get_config_file()
    raw = next(c["id"] for c in config["components"] if c["props"].get("label", "").startswith("Show raw scores"))
    views = [d for d in dependencies_on(raw, "input") if d["js"] and "setView" in d["js"]]
    assert len(views) == 1 and views[0]["backend_fn"] is False


def test_the_shuffled_matrix_is_a_second_static_instance():
    config = app.demo.get_config_file()
    shuffled = next(c for c in config["components"] if c["props"].get("elem_id") == "shuffled")
    assert shuffled["props"]["props"] == {"selectable": False}
    assert dependencies_on(shuffled["id"], "select") == []


# --- matrix_value --------------------------------------------------------------------------------


def test_matrix_value_packs_each_matrix_as_one_string_of_shortest_decimals():
    run = ac.attend("Your journey starts with one step", table=app.BOOK_TABLE)
    value = matrix_value(run.tokens, run.ids, run.attention)
    for name in ("scores", "weights"):
        matrix = getattr(run.attention, name)  # (T, T) float32, whatever this CPU's matmul gave in its last bit
        rows = unpacked(value[name])
        assert torch.equal(torch.tensor(rows, dtype=torch.float32), matrix), name  # every number round-trips
        # and each is the shortest decimal that does (numpy's float32 repr), not a float64 expansion
        assert value[name].split() == [str(np.float32(x)) for x in matrix.flatten().tolist()], name
    # The book's printed 4 decimals, from the packed string (a float64 reference, not this CPU's float32 bits)
    scores = unpacked(value["scores"])
    assert [round(x, 4) for x in scores[0][:4]] == [0.9995, 0.9544, 0.9422, 0.4753]


def test_matrix_value_sends_non_finite_numbers_as_null():
    inputs = torch.tensor([[1e20, 0.0], [0.0, 1.0]])  # 1e40 overflows float32
    attention = ac.self_attention(inputs)
    value = matrix_value(["a", " b"], None, attention)
    assert value["tokens"] == ["a", "␣b"] and value["ids"] is None
    assert value["scores"] == "null 0.0 0.0 1.0" and unpacked(value["weights"])[0] == [None, None]
    json.dumps(value, allow_nan=False)  # valid JSON: no NaN or Infinity tokens
