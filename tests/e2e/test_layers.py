"""The layers hold: the core's tests pass where gradio, matplotlib and pandas cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_core_tests_pass_with_gradio_matplotlib_and_pandas_unimportable():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/core", "-m", "not slow", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ATTENTION_BLOCK_UI": "1", "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "tests/core: gradio, matplotlib, pandas blocked (ATTENTION_BLOCK_UI=1)" in result.stdout
    assert " passed" in result.stdout.splitlines()[-1] and "skipped" not in result.stdout.splitlines()[-1]
