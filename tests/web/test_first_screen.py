"""The first screen shipped with the page (web/first_screen.json) is the default run's first view, recomputed here.

The file was computed on one CPU; this one may differ in a float32 matmul's last bit. So the matrix's numbers are
compared at float32 tolerance against a float64 recomputation, and every text is compared with its numbers allowed
one unit in their last printed digit.
"""

from __future__ import annotations

import re

import torch
from reference import recipe_inputs

import app
from web import first_screen, page_model

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _same_text(shipped: str, computed: str) -> None:
    """The same text, and each number within one unit of its last printed digit."""
    assert NUMBER.sub("#", shipped) == NUMBER.sub("#", computed)
    for a, b in zip(NUMBER.findall(shipped), NUMBER.findall(computed)):
        if a != b:
            decimals = len(a.split(".")[1].split("e")[0]) if "." in a else 0
            scale = 10 ** int(a.split("e")[1]) if "e" in a else 1
            assert abs(float(a) - float(b)) <= 1.01 * 10**-decimals * scale, (a, b)


def test_the_shipped_first_screen_is_the_default_runs_first_view():
    shipped, computed = first_screen.load(), first_screen.compute()
    stages = page_model.stage("first view") + page_model.stage("beside")
    assert set(shipped) == set(computed) == {panel.name for panel in stages} - {"state"}
    for name in shipped:
        if name == "heatmap":
            continue
        if isinstance(shipped[name], str):
            _same_text(shipped[name], computed[name])
        else:
            assert shipped[name] == computed[name], name
    matrix, again = shipped["heatmap"], computed["heatmap"]
    assert {k: v for k, v in matrix.items() if k not in ("scores", "weights")} == {
        k: v for k, v in again.items() if k not in ("scores", "weights")
    }
    # The numbers against float64: the book's recipe for the inputs, then X Xᵀ and the softmax.
    ids = app.ac.tokenize(first_screen.DEFAULT_TEXT).ids
    inputs = recipe_inputs(ids, dim=first_screen.DEFAULT_DIM, seed=first_screen.DEFAULT_SEED).double()
    scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)
    weights = torch.softmax(scores / first_screen.DEFAULT_TAU, dim=-1)
    for name, reference in (("scores", scores), ("weights", weights)):
        packed = torch.tensor([float(x) for x in matrix[name].split()], dtype=torch.float64).reshape(reference.shape)
        assert torch.allclose(packed, reference, rtol=2e-6, atol=1e-7), name


def test_the_page_starts_with_the_first_screen_and_the_load_event_only_fills_the_state():
    """The components' initial values are the shipped first view; opening the page without a link computes the
    run for the later events (state) and shows what lies below, and sends no first view again."""
    shipped = first_screen.load()
    assert app.ui.heatmap.value == shipped["heatmap"] and app.ui.trace_md.value == shipped["trace_md"]
    assert app.ui.tokens_html.value == shipped["tokens_html"]
    assert app.ui.trace_query.value == shipped["trace_query"]["value"] == 1
    assert app.ui.below.visible is False

    class Request:
        query_params = {"__theme": "dark"}  # Gradio's own parameter: not a link

    opened = app.open_page(app.BOOK_SENTENCE, "random", 3, 123, "", False, 1.0, Request())
    assert set(opened) == {app.ui.below, app.ui.state}
    assert opened[app.ui.below].visible is True
    run = opened[app.ui.state]
    assert run.tokens == app.ac.tokenize(app.BOOK_SENTENCE).tokens and run.dim == 3 and run.seed == 123


def test_a_link_replaces_the_first_screen_with_its_own_run():
    class Request:
        query_params = {"text": "the cat and the hat", "dim": "4", "seed": "7", "show": "scores"}

    opened = app.open_page(app.BOOK_SENTENCE, "random", 3, 123, "", False, 1.0, Request())
    assert opened[app.ui.below].visible is True
    assert opened[app.ui.heatmap]["view"] == "scores" and opened[app.ui.state].dim == 4
    assert opened[app.ui.link].endswith("show=scores")
