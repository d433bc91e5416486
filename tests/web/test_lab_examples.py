"""The normalization lab's examples: a click fills the box and the comparison follows (issue 23, "Also found" 1)."""

from __future__ import annotations

import app
from web.lab_tab import lab, run_lab


def _functions():
    return app.demo.fns.values()


def test_an_example_click_recomputes_the_lab_after_filling_the_box():
    load = lab.examples.load_input_event["id"]
    assert [component._id for component in app.demo.fns[load].outputs] == [lab.values._id]
    followers = [fn for fn in _functions() if fn.trigger_after == load]
    assert len(followers) == 1
    (follower,) = followers
    assert follower.fn is run_lab
    assert [component._id for component in follower.inputs] == [lab.values._id, lab.dtype._id]
    assert {component._id for component in follower.outputs} == {lab.table._id, lab.chart._id, lab.notes._id}


def test_the_recomputed_lab_replaces_all_three_outputs():
    """What the click's follower returns for an example: every output, so nothing of the last one stays."""
    before = run_lab("0, 0, 0", "float32")
    after = run_lab("1000, 1001, 1002", "float32")
    assert set(after) == set(before) == {lab.table, lab.chart, lab.notes}
    assert after[lab.table]["data"][0][0] == "1000" and after[lab.notes] != before[lab.notes]
