"""web/page_model.py: the table of a run's panels, without a page (app.py's wiring of it: tests/web/test_app.py)."""

from __future__ import annotations

import pytest

import attention_core as ac
from web import page_model
from web.page_model import PANELS, STAGES


@pytest.fixture(scope="module")
def run():
    return ac.attend("the cat and the hat", dim=4, seed=7)  # T = 5


def test_each_panel_is_named_once_and_each_stage_has_panels():
    names = [panel.name for panel in PANELS]
    assert len(names) == len(set(names))
    assert {panel.stage for panel in PANELS} == set(STAGES)
    assert sum(len(page_model.stage(stage)) for stage in STAGES) == len(PANELS)


def test_a_refusal_clears_every_panel_with_fresh_copies():
    cleared = page_model.cleared()
    assert list(cleared) == [panel.name for panel in PANELS]
    cleared["query"]["choices"].append("stale")  # Gradio may edit an update it is given
    assert page_model.cleared()["query"] == {"__type__": "update", "choices": [], "value": None}


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [((None, None, None), (1, 1, 0)), ((4, 3, 2), (4, 3, 2)), ((5, -1, True), (1, 1, 0)), (("2", 2.0, 1), (1, 1, 1))],
    ids=["new-run", "kept", "out-of-range-or-bool", "not-an-int"],
)
def test_a_view_keeps_the_pages_choices_only_where_they_fit_the_run(run, chosen, expected):
    query, trace_query, trace_key = chosen
    view = page_model.view_of(run, "the cat and the hat", query=query, trace_query=trace_query, trace_key=trace_key)
    assert (view.query, view.trace_query, view.trace_key) == expected


@pytest.mark.parametrize("stage", ["first view", "below"])
def test_a_stage_fills_exactly_its_built_panels(run, stage):
    filled = page_model.filled(stage, page_model.view_of(run, "the cat and the hat"))
    assert list(filled) == [panel.name for panel in page_model.stage(stage)]
    assert all(value is not None for value in filled.values())


def test_the_first_view_holds_the_run_its_matrix_and_its_link(run):
    filled = page_model.filled("first view", page_model.view_of(run, "the cat and the hat", raw_scores=True))
    assert filled["state"] is run
    assert filled["heatmap"]["view"] == "scores" and len(filled["heatmap"]["scores"].split()) == 25
    assert filled["link"] == "text=the+cat+and+the+hat&dim=4&seed=7&tau=1&show=scores"
    assert page_model.with_progress("first view") == ("heatmap",)
