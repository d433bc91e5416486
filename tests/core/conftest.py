"""tests/core tests the library alone. With ATTENTION_BLOCK_UI=1 in the environment, gradio, matplotlib and pandas
cannot be imported while these tests run, as where only what ``pip install`` of the core declares is installed
(tests/e2e/test_layers.py runs them so)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys

BLOCKED = ("gradio", "matplotlib", "pandas")
BLOCKING = os.environ.get("ATTENTION_BLOCK_UI") == "1"


class UIBlocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder that refuses the UI packages and everything under them: ``import pandas`` raises
    ModuleNotFoundError, and a probe such as ``importlib.util.find_spec`` (torch's compiler asks about pandas when
    an optimizer is built) gets a spec with no origin, as for a package that is not there to load."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] in BLOCKED:
            return importlib.machinery.ModuleSpec(name, self)
        return None  # any other module: the next finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        raise ModuleNotFoundError(f"No module named {spec.name!r} (ATTENTION_BLOCK_UI=1: the core must not need it)")

    def exec_module(self, module: object) -> None:  # never reached: create_module refuses
        raise ModuleNotFoundError(module)


if BLOCKING:
    already = [name for name in BLOCKED if name in sys.modules]
    if already:  # too late to block: a plugin or an earlier conftest imported them
        raise RuntimeError(f"ATTENTION_BLOCK_UI=1, but {', '.join(already)} were imported before tests/core")
    sys.meta_path.insert(0, UIBlocker())


def pytest_report_header() -> str | None:
    return f"tests/core: {', '.join(BLOCKED)} blocked (ATTENTION_BLOCK_UI=1)" if BLOCKING else None
