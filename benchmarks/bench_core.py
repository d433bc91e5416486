"""Core speed targets, measured side by side in one run: ``python benchmarks/bench_core.py``.

Each line says PASS or MISS (or REPORT, for numbers without a target) and the ratio of the
two medians. The two sides of a comparison alternate run by run, so drift in the machine's
speed hits both alike. Timings are never asserted in the test suite; this script is where
they live.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from attention_core import (  # noqa: E402
    ENDOFTEXT,
    clear_embedding_cache,
    gpt2_encoding,
    random_embeddings,
    self_attention,
    self_attention_loops,
    tokenize,
)


def _seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def side_by_side(ours: Callable[[], object], baseline: Callable[[], object], *, repeats: int) -> tuple[float, float]:
    """Median seconds of each, run alternately (the order flips every repeat), after one warm-up each."""
    ours()
    baseline()
    ours_times, baseline_times = [], []
    for repeat in range(repeats):
        if repeat % 2:
            ours_times.append(_seconds(ours))
            baseline_times.append(_seconds(baseline))
        else:
            baseline_times.append(_seconds(baseline))
            ours_times.append(_seconds(ours))
    return statistics.median(ours_times), statistics.median(baseline_times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def line(status: str, name: str, ratio: float, detail: str) -> None:
    print(f"{status:<6} {name}: {ratio:.2f}x ({detail})", flush=True)


def target(name: str, ratio: float, limit: float, detail: str) -> bool:
    passed = ratio <= limit
    line("PASS" if passed else "MISS", name, ratio, f"target ≤ {limit:.2f}; {detail}")
    return passed


def english_like_text(size: int, *, seed: int = 0) -> str:
    """Deterministic prose-like text of about ``size`` characters, with an occasional <|endoftext|>."""
    words = (
        "the of and to in a is that for it as was with be by on not he I this are or his from at which but "
        "have an they you were her she there one all we their can has more when will would if so no what up "
        "out about who them some could him into its then two time like other these may first new any only "
        "attention journey starts step token embedding vector weight softmax context query matrix language "
        "model transformer sequence chapter reader example sentence meaning words numbers"
    ).split()
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 18)))
        sentence = sentence[0].upper() + sentence[1:] + rng.choice([".", ".", ".", "?", "!", ","])
        if rng.random() < 0.02:
            sentence += f" {ENDOFTEXT}"
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:size]


def main() -> int:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    results = []

    # (a) the matrix version against the bare one-liner.
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1024, 768, generator=generator)  # (T, d)
    ours, bare = side_by_side(
        lambda: self_attention(x),
        lambda: torch.softmax(x @ x.T, -1) @ x,  # (T, T) @ (T, d) -> (T, d)
        repeats=31,
    )
    results.append(
        target("(a) self_attention vs torch.softmax(x @ x.T, -1) @ x, T=1024 d=768", ours / bare, 1.2,
               f"{_ms(ours)} vs {_ms(bare)}")
    )

    # (b) loops against matrices: a report, the loops are slow on purpose.
    small = torch.randn(64, 768, generator=generator)
    loops, matrix = side_by_side(lambda: self_attention_loops(small), lambda: self_attention(small), repeats=5)
    line("REPORT", "(b) self_attention_loops vs self_attention, T=64 d=768", loops / matrix,
         f"{_ms(loops)} vs {_ms(matrix)}")

    # (c) our tokenize (ids and visible pieces) against tiktoken's encode alone.
    text = english_like_text(100_000)
    encoding = gpt2_encoding()  # loads once; tokenize() shares it
    count = len(tokenize(text).ids)
    ours, theirs = side_by_side(
        lambda: tokenize(text),
        lambda: encoding.encode(text, allowed_special={ENDOFTEXT}),
        repeats=15,
    )
    results.append(
        target(f"(c) tokenize vs tiktoken encode, {len(text):,} chars, {count:,} tokens", ours / theirs, 1.2,
               f"{_ms(ours)} vs {_ms(theirs)}")
    )

    # (d) the embedding cache: first call builds the (50257, 768) table, later calls index it.
    ids = list(range(0, 50257, 197))[:256]
    cold_times, warm_times = [], []
    for seed in range(3):
        clear_embedding_cache()
        cold_times.append(_seconds(lambda: random_embeddings(ids, dim=768, seed=seed)))
        warm_times.append(min(_seconds(lambda: random_embeddings(ids, dim=768, seed=seed)) for _ in range(5)))
    clear_embedding_cache()
    cold, warm = statistics.median(cold_times), statistics.median(warm_times)
    line("REPORT", "(d) random_embeddings, 256 tokens d=768, first call vs cached", cold / warm,
         f"first {_ms(cold)}, cached {_ms(warm)}")

    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
