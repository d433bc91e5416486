"""Parallel API calls give exactly what the same call gives alone.

The random embeddings come from a local ``torch.Generator(seed)`` and a shared, bounded LRU cache; the
mix below uses more (seed, dim) pairs than the cache holds, so tables are evicted and rebuilt while other
requests read them. A global seed, or a cache entry shared while half-built, would show up as a mismatch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import golden
import pytest
from gradio_client import Client

import app
from attention_core import embeddings

pytestmark = pytest.mark.slow

TEXTS = [
    golden.SENTENCE,
    "The cat sat on the mat because it is warm",
    golden.TOKENIZER_TEXT,
    "I love 🦀 and 東京の寿司 🍣!",
    "attention " * 40,
]
# (api_name, args): 16 /attend calls with distinct (seed, dim) pairs, and a few /normalize calls.
ATTEND_JOBS = [
    ("/attend", (TEXTS[i % len(TEXTS)], dim, seed, ""))
    for i, (dim, seed) in enumerate(
        [
            (3, 123),
            (3, 7),
            (768, 123),
            (768, 1),
            (16, 0),
            (1, 2**32 - 1),
            (64, 42),
            (5, 5),
            (2, 99),
            (128, 3),
            (768, 2),
            (7, 123),
            (3, 8),
            (300, 11),
            (32, 4_000_000_000),
            (4, 6),
        ]
    )
]
NORMALIZE_JOBS = [
    ("/normalize", ("1, 2, 3, 400", "float32")),
    ("/normalize", ("-1000, -1001", "float64")),
    ("/normalize", (", ".join(map(str, golden.SCORES_2)), "float16")),
    ("/normalize", ("1, 2, -inf", "float32")),
]
JOBS = ATTEND_JOBS + NORMALIZE_JOBS


def new_client(url: str) -> Client:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        env.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        return Client(url, verbose=False, analytics_enabled=False)


def test_the_mix_overflows_the_embedding_cache():
    pairs = {(args[2], args[1]) for _, args in ATTEND_JOBS}
    assert len(pairs) == len(ATTEND_JOBS) == 16
    assert len(pairs) > embeddings.CACHE_MAX_TABLES


def test_parallel_calls_equal_sequential_calls(server_url):
    alone_client = new_client(server_url)
    try:
        alone = [alone_client.predict(*args, api_name=name) for name, args in JOBS]
    finally:
        alone_client.close()

    def run(job: tuple[str, tuple[Any, ...]]) -> Any:
        name, args = job
        client = new_client(server_url)
        try:
            return client.predict(*args, api_name=name)
        finally:
            client.close()

    order = list(range(len(JOBS)))
    order = order[::2] + order[1::2]  # neighbours in the list do not start side by side
    with ThreadPoolExecutor(max_workers=len(JOBS)) as pool:
        futures = {index: pool.submit(run, JOBS[index]) for index in order}
        together = [futures[index].result(timeout=300) for index in range(len(JOBS))]

    for (name, args), expected, got in zip(JOBS, alone, together):
        assert got == expected, f"{name} {args[1:3]} differs when run in parallel"
    # The results really differ from one another, so equality above is not trivially true.
    attend_inputs = [result["inputs"] for result in alone[: len(ATTEND_JOBS)]]
    assert len({repr(inputs) for inputs in attend_inputs}) == len(ATTEND_JOBS)
    assert {len(result["inputs"][0]) for result in alone[: len(ATTEND_JOBS)]} >= {1, 3, 768}


def test_api_results_are_not_kept_without_bound(server_url):
    """Gradio 6 keeps every event's inputs and outputs in a per-session store until the session is evicted,
    and each API call is a session of its own: one 256-token, dim-768 /attend keeps about 23 MB there (a
    1 MB table input is kept too). With Gradio's default capacity of 10,000 sessions the store only grows,
    so a few hundred large calls exhaust a Space's memory; ``launch()`` must bound it.
    """
    capacity = app.demo.state_holder.capacity  # set by launch(), which the server_url fixture has run
    assert capacity <= 100, f"state_session_capacity is {capacity:,}; a large API call keeps about 23 MB"
