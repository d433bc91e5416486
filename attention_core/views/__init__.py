"""Views: a run turned into something to look at or take home (texts, figures, exports).

The views import the core (``attention_core``), never the other way round. Submodules load on first use
(``attention_core.views.figures``), and matplotlib only inside the figure functions, so importing the views
stays light: the app serves its page before torch is imported.
"""

# ruff: noqa: F401 (the TYPE_CHECKING imports re-export the lazily loaded names for type checkers and IDEs)
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_SUBMODULES = {
    "export",
    "facts",
    "figures",
    "heatmap",
    "lab",
    "lecture",
    "lessons",
    "loops",
    "markup",
    "numbers",
    "palette",
    "parity",
    "serialize",
    "tables",
    "tokens",
    "vectors",
    "walkthrough",
}


if TYPE_CHECKING:  # the same modules, for type checkers and go-to-definition
    from . import (
        export,
        facts,
        figures,
        heatmap,
        lab,
        lecture,
        lessons,
        loops,
        markup,
        numbers,
        palette,
        parity,
        serialize,
        tables,
        tokens,
        vectors,
        walkthrough,
    )


def __getattr__(name: str) -> Any:
    if name not in _SUBMODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{name}", __name__)
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
