"""Core speed targets, measured side by side in one run: ``python benchmarks/bench_core.py``.

Each line says PASS or MISS (or INFO, for numbers without a target) and the ratio of the
two medians. The two sides of a comparison alternate run by run, so drift in the machine's
speed hits both alike. Timings are never asserted in the test suite; this script is where
they live.
"""

from __future__ import annotations

import functools
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from attention_core import (  # noqa: E402
    ENDOFTEXT,
    clear_embedding_cache,
    gpt2_encoding,
    random_embeddings,
    self_attention,
    self_attention_loops,
    tokenize,
    train_query_key,
)
from attention_core.views.serialize import _nonfinite_to_none, shortest_floats  # noqa: E402
from benchmarks.harness import Report, info, main  # noqa: E402


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


def target(report: Report, name: str, ours: float, baseline: float, limit: float) -> None:
    ratio = ours / baseline
    report.target(name, ratio <= limit, f"{ratio:.2f}x (target ≤ {limit:.2f}x; {_ms(ours)} vs {_ms(baseline)})")


def english_like_text(size: int, *, seed: int = 0) -> str:
    """Deterministic prose-like text of about ``size`` characters, with an occasional <|endoftext|>."""
    words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "I",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "they",
        "you",
        "were",
        "her",
        "she",
        "there",
        "one",
        "all",
        "we",
        "their",
        "can",
        "has",
        "more",
        "when",
        "will",
        "would",
        "if",
        "so",
        "no",
        "what",
        "up",
        "out",
        "about",
        "who",
        "them",
        "some",
        "could",
        "him",
        "into",
        "its",
        "then",
        "two",
        "time",
        "like",
        "other",
        "these",
        "may",
        "first",
        "new",
        "any",
        "only",
        "attention",
        "journey",
        "starts",
        "step",
        "token",
        "embedding",
        "vector",
        "weight",
        "softmax",
        "context",
        "query",
        "matrix",
        "language",
        "model",
        "transformer",
        "sequence",
        "chapter",
        "reader",
        "example",
        "sentence",
        "meaning",
        "words",
        "numbers",
    ]
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


def handwritten_shortest_floats(tensor: torch.Tensor) -> list:
    """The reference: the hand-written vectorized serializer that ``views.serialize.shortest_floats`` (orjson)
    replaced, copied unchanged from ``git show d5981fa:attention_core/serialize.py``. Its last step,
    ``_nonfinite_to_none``, is the same function today, so it is imported rather than copied. Kept here only to
    measure the replacement against, and to check that both give the same lists.
    """
    if tensor.dtype == torch.float16:
        # numpy's float16 repr is the shortest form that reads back as the same float16.
        return _nonfinite_to_none(tensor.detach().cpu().numpy().astype(str).astype(np.float64))
    if tensor.dtype != torch.float32:
        return _nonfinite_to_none(tensor.detach().cpu().double().numpy())
    x32 = tensor.detach().cpu().numpy()
    if x32.size <= 512:
        # numpy's float32 repr is the shortest round-tripping form; per element it wins on small arrays.
        return _nonfinite_to_none(x32.astype(str).astype(np.float64))
    x = x32.astype(np.float64)
    best = x.copy()
    finite = np.isfinite(x) & (x != 0)
    pending = finite.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.floor(np.log10(np.abs(np.where(finite, x, 1.0))))
        for digits in range(1, 10):  # 9 significant digits always round-trip a float32
            if not pending.any():
                break
            power = digits - 1 - exponent
            # n / 10**k is correctly rounded when both are exact, so its repr is the short decimal.
            scale = np.power(10.0, np.abs(power))
            candidate = np.where(power >= 0, np.round(x * scale) / scale, np.round(x / scale) * scale)
            ok = pending & (candidate.astype(np.float32) == x32)
            best[ok] = candidate[ok]
            pending &= ~ok
    # 10**k is exact in float64 only up to k = 22, so below about 1e-14 or above 1e22 the quotient can miss the
    # shortest decimal; numpy's float32 repr is shortest, so let it decide those entries (and any left pending).
    slow = pending | (finite & ((exponent < -14) | (exponent > 22)))
    if slow.any():
        best[slow] = x32[slow].astype(str).astype(np.float64)
    return _nonfinite_to_none(best)


def bench(report: Report) -> None:
    torch.manual_seed(0)
    info("torch", f"{torch.__version__}, {torch.get_num_threads()} threads")

    # (a) the matrix version against the bare one-liner.
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1024, 768, generator=generator)  # (T, d)
    ours, bare = side_by_side(
        lambda: self_attention(x),
        lambda: torch.softmax(x @ x.T, -1) @ x,  # (T, T) @ (T, d) -> (T, d)
        repeats=31,
    )
    target(report, "(a) self_attention vs torch.softmax(x @ x.T, -1) @ x, T=1024 d=768", ours, bare, 1.2)

    # (b) loops against matrices: a report, the loops are slow on purpose.
    small = torch.randn(64, 768, generator=generator)
    loops, matrix = side_by_side(lambda: self_attention_loops(small), lambda: self_attention(small), repeats=5)
    info(
        "(b) self_attention_loops vs self_attention, T=64 d=768",
        f"{loops / matrix:.2f}x ({_ms(loops)} vs {_ms(matrix)})",
    )

    # (c) our tokenize (ids and visible pieces) against tiktoken's encode alone.
    text = english_like_text(100_000)
    encoding = gpt2_encoding()  # loads once; tokenize() shares it
    count = len(tokenize(text).ids)
    ours, theirs = side_by_side(
        lambda: tokenize(text),
        lambda: encoding.encode(text, allowed_special={ENDOFTEXT}),
        repeats=15,
    )
    target(report, f"(c) tokenize vs tiktoken encode, {len(text):,} chars, {count:,} tokens", ours, theirs, 1.2)

    # (d) the embedding cache: first call builds the (50257, 768) table, later calls index it.
    ids = list(range(0, 50257, 197))[:256]
    cold_times, warm_times = [], []
    for seed in range(3):
        clear_embedding_cache()
        embed = functools.partial(random_embeddings, ids, dim=768, seed=seed)
        cold_times.append(_seconds(embed))
        warm_times.append(min(_seconds(embed) for _ in range(5)))
    clear_embedding_cache()
    cold, warm = statistics.median(cold_times), statistics.median(warm_times)
    info(
        "(d) random_embeddings, 256 tokens d=768, first call vs cached",
        f"{cold / warm:.2f}x (first {_ms(cold)}, cached {_ms(warm)})",
    )

    # (e) shortest float32 decimals: orjson (views.serialize) against the hand-written serializer it replaced.
    # Timed on an /attend-sized input (256 x 768 embeddings); checked on it and on values spread over float32's
    # whole range of magnitudes, where the hand-written one falls back to numpy's repr.
    embeddings = random_embeddings(ids, dim=768, seed=123)  # (256, 768)
    spread = torch.randn(256, 768, generator=generator) * torch.pow(
        10.0, torch.randint(-37, 38, (256, 768), generator=generator)
    )
    spread[0, :4] = torch.tensor([0.0, -0.0, 3.4028235e38, 1.4e-45])
    for name, values in (("embeddings", embeddings), ("magnitudes 1e-37 to 1e37", spread)):
        if shortest_floats(values) != handwritten_shortest_floats(values):
            raise AssertionError(f"(e) orjson and the hand-written serializer disagree on the 256 x 768 {name}")
    info(
        "(e) shortest_floats and the hand-written serializer",
        "identical lists on 256 x 768 embeddings and on 256 x 768 values of magnitudes 1e-37 to 1e37",
    )
    ours, handwritten = side_by_side(
        lambda: shortest_floats(embeddings), lambda: handwritten_shortest_floats(embeddings), repeats=21
    )
    target(
        report,
        f"(e) shortest_floats (orjson) vs the hand-written serializer, 256 x 768 float32 "
        f"({handwritten / ours:.1f}x faster)",
        ours,
        handwritten,
        1.0,
    )

    # (f) training W_query and W_key for 100 Adam steps, against the textbook loop it would otherwise be: the key
    # matrix X W_key formed at every step, and torch.optim.Adam's default (per-tensor) update.
    for count, dim in ((10, 3), (64, 64), (256, 768)):
        inputs = torch.randn(count, dim, generator=generator)  # (T, d)
        ours, textbook = side_by_side(
            lambda x=inputs, last=count - 1: train_query_key(x, last, 0, steps=100),
            lambda x=inputs, last=count - 1: textbook_training(x, last, 0, steps=100),
            repeats=5 if dim == 768 else 11,
        )
        target(report, f"(f) train_query_key vs the textbook loop, 100 steps, T={count} d={dim}", ours, textbook, 1.2)


def textbook_training(inputs: torch.Tensor, query: int, key: int, *, steps: int) -> torch.Tensor:
    """Section 3.4's scores as written, (x_q W_query)(X W_key)ᵀ / √d, trained with torch.optim.Adam's defaults."""
    x = inputs.double()  # (T, d)
    dim = x.shape[1]
    w_query = torch.eye(dim, dtype=torch.float64, requires_grad=True)  # (d, d)
    w_key = torch.eye(dim, dtype=torch.float64, requires_grad=True)  # (d, d)
    optimizer = torch.optim.Adam([w_query, w_key], lr=0.1)
    for _ in range(steps):
        keys = x @ w_key  # (T, d) @ (d, d) -> (T, d)
        scores = (x[query] @ w_query) @ keys.T / dim**0.5  # (d,) @ (d, T) -> (T,)
        loss = -torch.log_softmax(scores, dim=-1)[key]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w_query.detach()


if __name__ == "__main__":
    sys.exit(main("bench_core", bench))
