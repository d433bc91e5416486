"""The package's one list of public names, the README's example, and what using the core imports."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from golden import CONTEXT_2, HALF_UNIT, TOKENIZER_IDS

import attention_core

REPO = Path(__file__).resolve().parents[2]
LISTED = [(module, name) for module, names in attention_core._EXPORTS.items() for name in names]


def _defined_at_top_level(module: str) -> set[str]:
    """The names a core module's own source defines (def, class, or an assignment), read without importing it."""
    tree = ast.parse((REPO / "attention_core" / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


@pytest.mark.parametrize(("module", "name"), LISTED, ids=[f"{module}.{name}" for module, name in LISTED])
def test_every_public_name_resolves_and_lives_where_the_list_says(module, name):
    value = getattr(attention_core, name)
    assert value is getattr(importlib.import_module(f"attention_core.{module}"), name)
    assert name in _defined_at_top_level(module), f"{name} is imported into {module}, not defined there"
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == f"attention_core.{module}"


def test_the_list_is_the_whole_public_surface():
    assert attention_core.__all__ == sorted(name for _, name in LISTED)
    assert len(attention_core.__all__) == len(LISTED)  # no name listed under two modules
    assert set(attention_core.__all__) <= set(dir(attention_core))
    assert {"views", "uploads"} <= set(dir(attention_core))
    with pytest.raises(AttributeError, match="has no attribute 'plots'"):
        attention_core.plots  # noqa: B018 (moved to views.figures)


def _type_checking_imports(path: Path) -> dict[str, set[str]]:
    """What an ``__init__.py``'s ``if TYPE_CHECKING:`` block imports: {module: names} ("" for ``from . import``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (block,) = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    found: dict[str, set[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.unparse(node)
        found.setdefault(node.module or "", set()).update(alias.name for alias in node.names)
    return found


def test_the_type_checking_imports_are_the_lazy_names():
    """Go-to-definition and type checkers read the ``TYPE_CHECKING`` imports; the lazy loader reads _EXPORTS."""
    core = _type_checking_imports(REPO / "attention_core" / "__init__.py")
    assert core.pop("") == attention_core._SUBMODULES - set(attention_core._EXPORTS)
    assert core == {module: set(names) for module, names in attention_core._EXPORTS.items()}
    views = _type_checking_imports(REPO / "attention_core" / "views" / "__init__.py")
    assert views == {"": attention_core.views._SUBMODULES}


def test_the_readmes_example_runs_as_documented():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use the library", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    torch.testing.assert_close(namespace["context"][1], torch.tensor(CONTEXT_2), atol=HALF_UNIT, rtol=0.0)
    assert namespace["run"].weights.shape == (6, 6)
    assert attention_core.tokenize("Hello, do you like tea? <|endoftext|>").ids == TOKENIZER_IDS[:9]
    for name in re.findall(r"`(\w+)`", section.split("Also there:", 1)[1]):
        if name != "ValueError":
            assert name in attention_core.__all__, name


CORE_USE = """
import json, sys
import attention_core as ac
loaded_on_import = sorted(name for name in ("torch", "matplotlib", "gradio", "pandas") if name in sys.modules)
run = ac.attend("Your journey starts with one step", dim=4, seed=1)
ac.tokenize("hello")
ac.compare_normalizations("1, 2, 3, 400", "float16")
ac.random_embeddings([1, 2], dim=3, seed=0)
ac.parse_embedding_table("a 0.1 0.2\\nb 0.3 0.4")
ac.book_parity()
ac.self_matches(run.attention.scores)
print(json.dumps({"on_import": loaded_on_import,
                  "after_use": sorted(name for name in ("matplotlib", "gradio", "pandas") if name in sys.modules)}))
"""


@pytest.mark.slow
def test_using_the_core_loads_neither_matplotlib_gradio_nor_pandas():
    result = subprocess.run(
        [sys.executable, "-c", CORE_USE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"on_import": [], "after_use": []}  # and `import attention_core` alone does not load torch
