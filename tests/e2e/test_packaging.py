"""Packaging: what the Space installs (requirements.txt) and what `pip install .` gives (pyproject.toml).

The fast tests read the files. The slow ones run pip in subprocesses with this machine's pip configuration
(its indexes, --find-links and constraints), so they need what a normal `pip install` needs and no more.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "requirements.txt"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Marker values of the platforms the torch lines tell apart.
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64"},
    "windows-amd64": {"sys_platform": "win32", "platform_machine": "AMD64"},
}


def _lines(path: Path) -> list[str]:
    """The file's lines without comments and blank lines (pip's rule: `#` at the start or after whitespace)."""
    lines = (re.sub(r"(^|\s)#.*", "", line).strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    return [Requirement(line) for line in _lines(path) if not line.startswith("-")]


def _pins(name: str, platform_markers: dict[str, str]) -> list[Version]:
    """The versions pinned with `==` for ``name`` whose markers hold on that platform."""
    environment = {**default_environment(), **platform_markers}
    pins = []
    for requirement in _requirements():
        if canonicalize_name(requirement.name) != canonicalize_name(name):
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        specifiers = list(requirement.specifier)
        assert [spec.operator for spec in specifiers] == ["=="], f"{requirement} is not one == pin"
        pins.append(Version(specifiers[0].version))
    return pins


def _front_matter(readme: Path) -> dict[str, str]:
    """The `key: value` lines of README.md's front matter (between the first two `---` lines)."""
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must start with the Space's front matter"
    block = text[4 : text.index("\n---\n", 4)]
    pairs = (line.split(":", 1) for line in block.splitlines() if ":" in line)
    return {key.strip(): value.strip().strip("\"'") for key, value in pairs}


def test_readme_sdk_version_is_the_gradio_pin():
    """The Space installs gradio at sdk_version; a different pin in requirements.txt breaks its build."""
    sdk_version = _front_matter(REPO_ROOT / "README.md")["sdk_version"]
    (gradio,) = _pins("gradio", {})
    assert Version(sdk_version) == gradio, (
        f"README.md's sdk_version is {sdk_version} but requirements.txt pins gradio=={gradio}: make them equal"
    )


def test_requirements_name_the_cpu_index():
    assert f"--extra-index-url {CPU_INDEX}" in _lines(REQUIREMENTS)


@pytest.mark.parametrize("name", PLATFORMS)
def test_one_torch_pin_per_platform(name):
    """Linux x86_64 pins the CPU-only build (+cpu); elsewhere the plain version, the same release."""
    (pin,) = _pins("torch", PLATFORMS[name])
    (linux_pin,) = _pins("torch", PLATFORMS["linux-x86_64"])
    assert pin.public == linux_pin.public
    assert pin.local == ("cpu" if name == "linux-x86_64" else None)


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_library_needs_nothing_from_gradio():
    project = _pyproject()["project"]
    names = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    assert {"torch", "tiktoken"} <= names
    assert not {name for name in names if name.startswith("gradio")}
    assert "matplotlib" not in names, "matplotlib belongs in the [figures] extra"


@pytest.mark.parametrize("name", PLATFORMS)
def test_library_admits_the_space_pins(name):
    """An environment set up from requirements.txt already satisfies the library: pip installs nothing more."""
    project = _pyproject()["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["figures"]
    checked = 0
    for requirement in map(Requirement, lines):
        for pin in _pins(requirement.name, PLATFORMS[name]):
            assert requirement.specifier.contains(pin, prereleases=True), f"{requirement} refuses {pin}"
            checked += 1
    assert checked >= 3  # torch, tiktoken, matplotlib


def _imported_packages() -> dict[str, set[str]]:
    """The top-level names every module of attention_core imports, absolute imports only, with the files."""
    found: dict[str, set[str]] = {}
    for path in (REPO_ROOT / "attention_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def test_the_library_declares_every_package_it_imports():
    """Each third-party import of attention_core, views included, is a dependency or in an extra."""
    project = _pyproject()["project"]
    lines = project["dependencies"] + [line for extra in project["optional-dependencies"].values() for line in extra]
    declared = {canonicalize_name(Requirement(line).name) for line in lines}
    distributions = importlib.metadata.packages_distributions()  # top-level name -> its distributions
    imported = _imported_packages()
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "attention_core"}
    assert {"torch", "tiktoken", "numpy", "orjson", "matplotlib"} <= third_party  # the scan sees them
    for name in sorted(third_party):
        owners = {canonicalize_name(owner) for owner in distributions.get(name, [])}
        assert owners & declared, f"{name} (imported by {sorted(imported[name])}) is not declared in pyproject.toml"


def test_the_version_is_single_sourced():
    """pyproject.toml reads the version from attention_core.__version__ (a literal, read without importing)."""
    pyproject = _pyproject()
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "attention_core.__version__"}
    import attention_core

    assert Version(attention_core.__version__) >= Version("0.1.0")
    assert (REPO_ROOT / "attention_core" / "py.typed").is_file()
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["attention_core"]


# The keys a Space's README may set (huggingface.co/docs/hub/spaces-config-reference), and their limits.
HUB_KEYS = {
    "title", "emoji", "colorFrom", "colorTo", "sdk", "python_version", "sdk_version", "suggested_hardware",
    "suggested_storage", "app_file", "app_port", "base_path", "fullWidth", "header", "short_description", "models",
    "datasets", "tags", "thumbnail", "pinned", "hf_oauth", "hf_oauth_scopes", "hf_oauth_expiration_minutes",
    "disable_embedding", "startup_duration_timeout", "custom_headers", "preload_from_hub", "license",
}  # fmt: skip
HUB_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
SHORT_DESCRIPTION_MAX = 60  # the Hub refuses a longer one when the README is pushed


def _card() -> dict:
    import yaml

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text[4 : text.index("\n---\n", 4)])


def test_the_space_card_uses_the_hubs_keys_within_its_limits():
    card = _card()
    assert set(card) <= HUB_KEYS, f"not a Space key: {sorted(set(card) - HUB_KEYS)}"
    assert card["sdk"] == "gradio" and (REPO_ROOT / card["app_file"]).is_file()
    assert isinstance(card["python_version"], str) and card["python_version"] == "3.11"  # a string: 3.10 != 3.1
    assert {card["colorFrom"], card["colorTo"]} <= HUB_COLORS
    assert card["license"] == "mit"
    assert 0 < len(card["short_description"]) <= SHORT_DESCRIPTION_MAX, len(card["short_description"])


def test_the_space_card_is_discoverable():
    """Tags to find it by, GPT-2 (its tokenizer) so GPT-2's model page lists it, and a social thumbnail."""
    card = _card()
    tags = card["tags"]
    assert len(tags) >= 3 and len(set(tags)) == len(tags)
    assert all(isinstance(tag, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", tag) for tag in tags), tags
    assert {"self-attention", "education"} <= set(tags)
    assert card["models"] == ["openai-community/gpt2"]
    thumbnail = card["thumbnail"]
    if not thumbnail.startswith("https://"):  # a file of this repository, until the Space's own address is known
        from PIL import Image

        with Image.open(REPO_ROOT / thumbnail) as image:
            assert (image.format, image.size) == ("PNG", (1200, 630))  # the size social sites show


# --- slow: pip in subprocesses -------------------------------------------------------------------------------


def _pip_env(**extra: str) -> dict[str, str]:
    """The environment for pip subprocesses: this machine's pip configuration, plus PIP_RETRIES=0.

    requirements.txt names PyTorch's CPU index, and pip asks every index about every package. Where that index
    cannot be reached, pip's default 5 retries cost 7.5 s per package (11 minutes for requirements-dev.txt's 87);
    with 0 retries an unreachable index fails at once. The variable also reaches pip's build subprocess.
    """
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONHOME"}}
    return {**env, "PIP_RETRIES": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def _run(command: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64", reason="resolves for Linux x86_64, the Space's"
)
def test_space_requirements_resolve_without_cuda_on_linux(tmp_path):
    """`pip install --dry-run --report` of requirements.txt, as is, on Linux x86_64: no nvidia-* or triton.

    - The file itself is given to pip (`-r requirements.txt`): its index option and its torch pins decide.
      Nothing on the command line adds or replaces an index; pip also uses the machine's own configuration
      (here: local indexes and a --find-links folder that holds the torch 2.13.0+cpu wheel).
    - No `--platform`: pip evaluates environment markers (`sys_platform == "linux"`) on the running
      interpreter, whatever `--platform` says, so a Linux resolve has to run on Linux; this test skips
      elsewhere. On Linux x86_64 the host's wheel tags stand for the Space's.
    - `--ignore-installed`: the torch already in this environment must not stand in for a resolve.
    - `--only-binary=:all:`: no sdist is built, so no build backend runs and the resolve stays bounded.
    - PIP_RETRIES=0 (see `_pip_env`): where download.pytorch.org is unreachable, as on an offline mirror,
      pip skips it at once instead of retrying every package's lookup for 7.5 s.
    """
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:"]
    command += ["--quiet", "--report", str(report), "-r", str(REQUIREMENTS)]
    _run(command, timeout=900, cwd=tmp_path, env=_pip_env())

    metadata = [item["metadata"] for item in json.loads(report.read_text())["install"]]
    installed = {item["name"]: item["version"] for item in metadata}
    names = {canonicalize_name(name) for name in installed}
    assert not {name for name in names if name.startswith("nvidia-") or name.endswith("triton")}, sorted(names)
    (torch,) = (Version(version) for name, version in installed.items() if canonicalize_name(name) == "torch")
    assert torch.local == "cpu"


# Run by the fresh venv's Python, from a folder without the sources, with no network.
_INSTALLED_CHECK = textwrap.dedent(
    """
    import json, socket

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise OSError("network disabled in this check")

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this check")

    socket.socket = NoSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import importlib, importlib.metadata, importlib.resources, importlib.util, pkgutil
    import torch
    import attention_core

    book = [[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
            [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]]

    packages = {packages}
    result = {{
        "file": attention_core.__file__,
        "ids": attention_core.tokenize("Hello, world").ids,
        "context_2": [round(x, 4) for x in attention_core.self_attention(torch.tensor(book)).context[1].tolist()],
        "softmax_stable": attention_core.compare_normalizations([1.0, 2.0, 3.0]).softmax_stable.tolist(),
        "missing_packages": [name for name in packages if importlib.util.find_spec(name) is None],
        "assets": sorted(p.name for p in (importlib.resources.files("attention_core") / "assets").iterdir()),
        "gradio": importlib.util.find_spec("gradio") is not None,
        "matplotlib": importlib.util.find_spec("matplotlib") is not None,
        "files": sorted(str(f) for f in importlib.metadata.files("attention-core")),
        "requires": importlib.metadata.requires("attention-core"),
    }}
    modules = sorted(m.name for m in pkgutil.walk_packages(attention_core.__path__, "attention_core."))
    result["modules"], result["import_errors"] = modules, {{}}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:
            result["import_errors"][name] = repr(error)
    try:
        from attention_core.views import heatmap
        heatmap.plot(attention_core.attend("Hi"))
        result["figure_without_matplotlib"] = "drawn"
    except ModuleNotFoundError as error:
        result["figure_without_matplotlib"] = str(error)
    metadata = importlib.metadata.metadata("attention-core")
    result["version"] = [attention_core.__version__, metadata["Version"]]
    result["metadata"] = {{
        "Summary": metadata["Summary"],
        "Description-Content-Type": metadata["Description-Content-Type"],
        "Project-URL": metadata.get_all("Project-URL"),
        "Classifier": metadata.get_all("Classifier"),
        "long_description": (metadata.get_payload() or metadata["Description"] or "")[:2000],
    }}
    print(json.dumps(result))
    """
)

# Run by the fresh venv's Python after `pip install <project>[figures]`: the notebook's one-call heatmap.
_FIGURES_CHECK = textwrap.dedent(
    """
    import json
    import attention_core as ac
    from attention_core.views import heatmap
    from attention_core.views.figures import figure_to_png

    figure = heatmap.plot(ac.attend("Your journey starts with one step"))
    png = figure_to_png(figure)
    shown = figure._repr_png_()  # what Jupyter shows inline
    print(json.dumps({"title": figure.axes[0].get_title(), "png": png[:8].hex(), "bytes": len(png),
                      "shown": shown == png}))
    """
)


def _copy_project(destination: Path) -> Path:
    """The working tree without virtual environments, caches and build output.

    pip builds a local folder in place (build/, *.egg-info), so it builds a copy, never the repository.
    """
    skip = shutil.ignore_patterns(
        ".git",
        ".venv",
        "venv",
        ".gradio",
        "__pycache__",
        "*.pyc",
        ".*_cache",
        "build",
        "dist",
        "*.egg-info",
        "tmp",
        "flagged",
        "node_modules",
    )
    shutil.copytree(REPO_ROOT, destination, ignore=skip)
    return destination


def _torch_constraints(path: Path) -> Path:
    """requirements.txt's index options and torch lines as a constraints file, so the library gets the Space's torch."""
    keep = [line for line in _lines(REQUIREMENTS) if line.startswith("-") or Requirement(line).name == "torch"]
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_library_installs_alone_in_a_fresh_venv(tmp_path):
    """`pip install <project>` into a new venv: attention_core with its data, tokenizing offline, and no gradio.

    torch is constrained to the Space's pin (requirements.txt's torch lines and index), which here is the
    2.13.0+cpu wheel on the local disk; otherwise pip would fetch the newest torch. A probe subpackage is added
    to the copy, so the test shows that subpackages (such as attention_core.views) are found automatically.

    Then, with only the declared dependencies: every module imports, a figure says which extra it needs, the
    metadata is complete (version, py.typed, README, URLs, classifiers) and ``python -m attention_core`` runs;
    and after ``pip install <project>[figures]`` the notebook's heatmap draws.
    """
    project = _copy_project(tmp_path / "project")
    probe = project / "attention_core" / "_packaging_probe"
    probe.mkdir()
    (probe / "__init__.py").write_text('"""Added by tests/e2e/test_packaging.py: must be installed too."""\n')
    inits = (project / "attention_core").rglob("__init__.py")
    packages = sorted(".".join(init.parent.relative_to(project).parts) for init in inits)

    environment = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(environment)], timeout=120)
    python = str(environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    constraints = _torch_constraints(tmp_path / "torch-constraints.txt")
    install = [python, "-m", "pip", "install", "--quiet", "-c", str(constraints), str(project)]
    _run(install, timeout=900, cwd=tmp_path, env=_pip_env())

    cache = tmp_path / "empty-tiktoken-cache"
    cache.mkdir()
    script = _INSTALLED_CHECK.format(packages=repr(packages))
    result = _run([python, "-c", script], timeout=300, cwd=tmp_path, env=_pip_env(TIKTOKEN_CACHE_DIR=str(cache)))
    installed = json.loads(result.stdout.strip().splitlines()[-1])

    assert Path(installed["file"]).is_relative_to(environment), "attention_core was imported from the sources"
    assert installed["ids"] == [15496, 11, 995]
    assert installed["context_2"] == [0.4419, 0.6515, 0.5683]  # the book's context_vec_2
    assert installed["softmax_stable"] == pytest.approx([0.0900, 0.2447, 0.6652], abs=1e-4)
    assert installed["missing_packages"] == []
    assert installed["assets"] == ["gpt2.tiktoken", "gpt2.tiktoken.LICENSE"]
    assert not installed["gradio"]
    assert not installed["matplotlib"], "matplotlib is only in the [figures] extra"
    outside = [name for name in installed["files"] if not name.startswith(("attention_core/", "attention_core-"))]
    assert outside == [], "only attention_core is installed: not app.py, tests/, benchmarks/, docs/ or web/"
    assert not [line for line in installed["requires"] if "gradio" in line]

    # Every module imports with only the declared dependencies: the views too (matplotlib is imported lazily).
    sources = sorted((project / "attention_core").rglob("*.py"))
    expected = {".".join(path.relative_to(project).with_suffix("").parts).removesuffix(".__init__") for path in sources}
    assert expected <= {"attention_core", *installed["modules"]}, sorted(expected - set(installed["modules"]))
    assert installed["import_errors"] == {}
    assert installed["figure_without_matplotlib"].startswith(
        'The figures need matplotlib: pip install "attention-core[figures]"'
    )

    # Metadata: one version, the type marker, the README as description, links and classifiers.
    version, metadata_version = installed["version"]
    assert version == metadata_version
    assert "attention_core/py.typed" in installed["files"]
    metadata = installed["metadata"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "# Self-attention without trainable weights" in metadata["long_description"]
    assert any(url.startswith("Book, https://") for url in metadata["Project-URL"])
    assert "Typing :: Typed" in metadata["Classifier"]

    # The command line, as a program of the installed package.
    cli = [python, "-m", "attention_core", "--book"]
    out = _run(cli, timeout=300, cwd=tmp_path, env=_pip_env(TIKTOKEN_CACHE_DIR=str(cache))).stdout
    assert out.startswith("6 tokens, your table (d = 3), τ = 1\n")
    assert re.search(r"\n  ␣journey +0\.1385 +0\.2379 +0\.2333 +0\.1240 +0\.1082 +0\.1581\n", out)  # the book's α row 2

    # With the [figures] extra, the notebook's one-call heatmap draws.
    extra = [python, "-m", "pip", "install", "--quiet", "-c", str(constraints), f"{project}[figures]"]
    _run(extra, timeout=900, cwd=tmp_path, env=_pip_env())
    figures = _run([python, "-c", _FIGURES_CHECK], timeout=300, cwd=tmp_path, env=_pip_env())
    drawn = json.loads(figures.stdout.strip().splitlines()[-1])
    assert drawn["title"] == "Attention weights α = softmax(ω)"
    assert drawn["png"] == "89504e470d0a1a0a" and drawn["bytes"] > 1000  # a PNG
    assert drawn["shown"]
