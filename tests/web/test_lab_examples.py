"""The normalization lab's examples: a click fills the box and the comparison follows (issue 23, "Also found" 1)."""

from __future__ import annotations

import app
from app import ui


def _functions():
    return app.demo.fns.values()


def test_an_example_click_recomputes_the_lab_after_filling_the_box():
    load = ui.lab_examples.load_input_event["id"]
    assert [component._id for component in app.demo.fns[load].outputs] == [ui.values._id]
    followers = [fn for fn in _functions() if fn.trigger_after == load]
    assert len(followers) == 1
    (follower,) = followers
    assert follower.fn is app.run_lab
    assert [component._id for component in follower.inputs] == [ui.values._id, ui.dtype._id]
    assert {component._id for component in follower.outputs} == {ui.lab_table._id, ui.lab_chart._id, ui.lab_notes._id}


def test_the_recomputed_lab_replaces_all_three_outputs():
    """What the click's follower returns for an example: every output, so nothing of the last one stays."""
    before = app.run_lab("0, 0, 0", "float32")
    after = app.run_lab("1000, 1001, 1002", "float32")
    assert set(after) == set(before) == {ui.lab_table, ui.lab_chart, ui.lab_notes}
    assert after[ui.lab_table]["data"][0][0] == "1000" and after[ui.lab_notes] != before[ui.lab_notes]
