"""Loops against matrices: both versions timed alike on the run's inputs, and the words chosen from the timings.

No assertion here depends on which version was faster on this machine: the verdict is checked against the
timings the same call measured.
"""

from __future__ import annotations

import re
import statistics

import pytest
import torch
from golden import INPUTS

from attention_core.views import loops
from attention_core.views.loops import MAX_TOKENS, REPEATS, Timings, compare_implementations, timings_markdown


def test_both_versions_agree_on_the_book_and_run_the_same_number_of_times():
    timings = compare_implementations(torch.tensor(INPUTS))
    assert len(timings.loops) == len(timings.matrix) == REPEATS
    assert all(t > 0 for t in timings.loops + timings.matrix)
    assert timings.difference < 1e-6


def test_timings_say_what_was_measured():
    text = timings_markdown(torch.tensor(INPUTS))
    assert f"On this input (T = 6 tokens, d = 3), each version ran {REPEATS} times, interleaved." in text
    assert len(re.findall(r"median \*\*[\d.e+-]+ ms\*\* \(range [\d.e+-]+ ms–[\d.e+-]+ ms\)", text)) == 2
    assert "Their context vectors agree" in text and "Timed on the first" not in text


def test_a_long_run_is_timed_on_a_prefix():
    inputs = torch.randn(MAX_TOKENS + 6, 3, generator=torch.Generator().manual_seed(0))
    text = timings_markdown(inputs)
    assert f"T = {MAX_TOKENS} tokens" in text
    assert f"(Timed on the first {MAX_TOKENS} tokens: the loops make T² Python calls.)" in text


@pytest.mark.parametrize(
    ("loops_ms", "matrix_ms", "expected"),
    [
        (
            [10, 12, 11],
            [1, 1.2, 0.9],
            "The matrix version was faster in all 3 pairs: 10× faster at the median (loops / matrices from 10× to 12×)",
        ),
        ([1, 1, 1], [2, 3, 2], "The loop version was faster in all 3 pairs, 2× at the median"),
        (
            [1, 3, 1],
            [2, 1, 2],
            "The difference is within this machine's noise: the matrix version was faster in 1 of 3",
        ),
    ],
    ids=["matrices_faster", "loops_faster", "noise"],
)
def test_the_verdict_is_chosen_from_the_pairs(monkeypatch, loops_ms, matrix_ms, expected):
    """Issue 23, Medium 7: "slower" or "faster" only when every pair agrees; otherwise "within noise"."""
    timings = Timings(loops=[t / 1e3 for t in loops_ms], matrix=[t / 1e3 for t in matrix_ms], difference=0.0)
    monkeypatch.setattr(loops, "compare_implementations", lambda inputs: timings)
    text = timings_markdown(torch.tensor(INPUTS))
    assert expected in text, text
    assert (
        f"median **{statistics.median(loops_ms):.3g} ms** (range {min(loops_ms):.3g} ms–{max(loops_ms):.3g} ms)" in text
    )
