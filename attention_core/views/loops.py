"""Loops against matrices: both versions timed alike on the run's inputs, and the comparison in words.

Both versions run the same number of times, interleaved (loops, matrices, loops, …) so that a busy moment on the
machine falls on both; the text reports medians and ranges, and says "within noise" unless every paired run
agrees on which version is faster.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from ..attention import self_attention, self_attention_loops

# The loop version makes T² Python calls; above this many tokens it is timed on a prefix.
MAX_TOKENS = 64
# Paired runs: at most REPEATS, at least MIN_REPEATS, and no new pair once BUDGET_SECONDS have passed.
REPEATS = 5
MIN_REPEATS = 3
BUDGET_SECONDS = 1.5


@dataclass(frozen=True)
class Timings:
    """Seconds per run of each version, pair by pair (loops[i] and matrix[i] ran one after the other), and the
    largest absolute difference between their context vectors."""

    loops: list[float]
    matrix: list[float]
    difference: float

    @property
    def ratios(self) -> list[float]:
        """loops / matrix for each pair: above 1, the matrix version was faster in that pair."""
        return [a / b if b > 0 else float("inf") for a, b in zip(self.loops, self.matrix)]


def compare_implementations(inputs: torch.Tensor, *, repeats: int = REPEATS) -> Timings:
    """Time both versions on ``inputs`` (T, d), ``repeats`` interleaved pairs (fewer past BUDGET_SECONDS)."""
    self_attention(inputs)  # warm-up: the first call pays for allocations
    self_attention_loops(inputs[:2])
    loops_times: list[float] = []
    matrix_times: list[float] = []
    started = time.perf_counter()
    loops = matrix = None
    while len(loops_times) < repeats:
        if len(loops_times) >= MIN_REPEATS and time.perf_counter() - started > BUDGET_SECONDS:
            break
        start = time.perf_counter()
        loops = self_attention_loops(inputs)
        loops_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        matrix = self_attention(inputs)
        matrix_times.append(time.perf_counter() - start)
    difference = float((loops.context - matrix.context).abs().max())
    return Timings(loops=loops_times, matrix=matrix_times, difference=difference)


def _ms(seconds: float) -> str:
    """Milliseconds at 3 significant digits: a timer on a shared machine supports no more."""
    return f"{seconds * 1e3:.3g} ms"


def _times(seconds: list[float]) -> str:
    return f"median **{_ms(statistics.median(seconds))}** (range {_ms(min(seconds))}–{_ms(max(seconds))})"


def _ratio(value: float) -> str:
    return f"{value:.2g}×"


def timings_markdown(inputs: torch.Tensor) -> str:
    """Time both versions (on the first MAX_TOKENS tokens) and say what was measured, and what it supports."""
    timed = inputs[:MAX_TOKENS]
    timings = compare_implementations(timed)
    count, dim = timed.shape
    pairs = len(timings.loops)
    ratios = timings.ratios
    faster = sum(ratio > 1 for ratio in ratios)
    spread = f"loops / matrices from {_ratio(min(ratios))} to {_ratio(max(ratios))}"
    if faster == pairs:
        verdict = (
            f"The matrix version was faster in all {pairs} pairs: {_ratio(statistics.median(ratios))} faster at the "
            f"median ({spread})."
        )
    elif faster == 0:
        verdict = (
            f"The loop version was faster in all {pairs} pairs, {_ratio(1 / statistics.median(ratios))} at the median "
            f"({spread}): on an input this small, fixed costs per call can outweigh the loops' work."
        )
    else:
        verdict = (
            f"The difference is within this machine's noise: the matrix version was faster in {faster} of {pairs} "
            f"pairs ({spread})."
        )
    agreement = (
        "they are equal, bit for bit"
        if timings.difference == 0.0
        else f"the largest absolute difference is **{timings.difference:.2e}**, float32 rounding only"
    )
    text = (
        f"On this input (T = {count} tokens, d = {dim}), each version ran {pairs} times, interleaved. Loops: "
        f"{_times(timings.loops)}. Matrices: {_times(timings.matrix)}. {verdict} Their context vectors agree: "
        f"{agreement}."
    )
    if inputs.shape[0] > MAX_TOKENS:
        text += f"\n\n(Timed on the first {MAX_TOKENS} tokens: the loops make T² Python calls.)"
    return text
