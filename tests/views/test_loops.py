"""Loops against matrices: both versions timed on the run's inputs, and their agreement stated from the run."""

from __future__ import annotations

import re

import torch
from golden import INPUTS

from attention_core.views.loops import MAX_TOKENS, compare_implementations, timings_markdown


def test_both_versions_agree_on_the_book():
    loops_seconds, matrix_seconds, difference = compare_implementations(torch.tensor(INPUTS))
    assert loops_seconds > 0 and matrix_seconds > 0
    assert difference < 1e-6


def test_timings_say_what_was_measured():
    text = timings_markdown(torch.tensor(INPUTS))
    assert "On this input (T = 6 tokens, d = 3)" in text
    assert len(re.findall(r"\*\*\d+\.\d+ ms\*\*", text)) == 2
    assert "Their context vectors agree" in text and "Timed on the first" not in text


def test_a_long_run_is_timed_on_a_prefix():
    inputs = torch.randn(MAX_TOKENS + 6, 3, generator=torch.Generator().manual_seed(0))
    text = timings_markdown(inputs)
    assert f"T = {MAX_TOKENS} tokens" in text
    assert f"(Timed on the first {MAX_TOKENS} tokens: the loops make T² Python calls.)" in text
