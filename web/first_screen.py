"""The first screen, painted with the page: the default run's first view and the trace beside it (tokens, matrix,
trace, choices), computed
once by ``python -m web.first_screen`` and shipped as web/first_screen.json.

The page's components start with these values, so the matrix and its trace are on screen with the first paint,
before any round trip and before torch is even imported; the page's load event then only fills the run's state and
what lies below. tests/web/test_first_screen.py recomputes the file from the pipeline and compares (at float32
tolerance: the shipped file was computed on one CPU, and a matmul's last bit differs between CPUs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .api import DEFAULT_DIM, DEFAULT_SEED

PATH = Path(__file__).resolve().with_name("first_screen.json")

# The page's default inputs: the book's sentence, a seeded random table of d = 3, τ = 1, the weights shown.
DEFAULT_TEXT = "Your journey starts with one step"
DEFAULT_TAU = 1.0
DROPDOWNS = ("trace_query", "trace_key")  # their value is (choices, chosen index)


def compute() -> dict[str, Any]:
    """The first view of the default run, by panel name, as plain JSON data (a dropdown as its choices and value)."""
    import attention_core as ac

    from . import page_model

    run = ac.attend(DEFAULT_TEXT, dim=DEFAULT_DIM, seed=DEFAULT_SEED, temperature=DEFAULT_TAU)
    view = page_model.view_of(run, DEFAULT_TEXT)
    values = page_model.filled("first view", view) | page_model.filled("beside", view)
    values.pop("state")  # the run itself is the load event's to fill: it holds tensors
    values["embeddings_box"] = values["embeddings_box"]["label"]  # a gr.update of the accordion's label
    for name in DROPDOWNS:
        dropdown = values[name]
        values[name] = {"choices": [list(choice) for choice in dropdown.choices], "value": dropdown.value}
    return values


def load() -> dict[str, Any]:
    """The shipped first view (web/first_screen.json)."""
    return json.loads(PATH.read_text(encoding="utf-8"))


def write() -> None:
    PATH.write_text(json.dumps(compute(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {PATH}")
