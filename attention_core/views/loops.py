"""Loops against matrices: both versions timed on the run's inputs, and the comparison in words."""

from __future__ import annotations

import time

import torch

from ..attention import self_attention, self_attention_loops

# The loop version makes T² Python calls; above this many tokens it is timed on a prefix.
MAX_TOKENS = 64


def compare_implementations(inputs: torch.Tensor) -> tuple[float, float, float]:
    """Time both versions on ``inputs`` and return (loops_seconds, matrix_seconds, max_abs_difference)."""
    self_attention(inputs)  # warm-up: the first call pays for allocations the loops never see
    start = time.perf_counter()
    loops = self_attention_loops(inputs)
    loops_seconds = time.perf_counter() - start
    matrix_seconds = float("inf")
    for _ in range(5):  # best of 5: the matrix version is too quick for one reading
        start = time.perf_counter()
        matrix = self_attention(inputs)
        matrix_seconds = min(matrix_seconds, time.perf_counter() - start)
    difference = float((loops.context - matrix.context).abs().max())
    return loops_seconds, matrix_seconds, difference


def timings_markdown(inputs: torch.Tensor) -> str:
    """Time both versions (on the first MAX_TOKENS tokens) and say what was measured."""
    timed = inputs[:MAX_TOKENS]
    loops_seconds, matrix_seconds, difference = compare_implementations(timed)
    count, dim = timed.shape
    ratio = loops_seconds / matrix_seconds if matrix_seconds > 0 else float("inf")
    speed = f"{ratio:,.3g}× faster" if ratio >= 1 else f"{1 / ratio:,.3g}× slower"
    agreement = (
        "they are equal, bit for bit"
        if difference == 0.0
        else f"the largest absolute difference is **{difference:.2e}**, float32 rounding only"
    )
    text = (
        f"On this input (T = {count} tokens, d = {dim}), "
        f"the loop version took **{loops_seconds * 1e3:.2f} ms** "
        f"and the matrix version **{matrix_seconds * 1e3:.3f} ms** ({speed}). "
        f"Their context vectors agree: {agreement}."
    )
    if inputs.shape[0] > MAX_TOKENS:
        text += f"\n\n(Timed on the first {MAX_TOKENS} tokens: the loops make T² Python calls.)"
    return text
