"""The notebook's one-call heatmap (``attention_core.views.heatmap.plot``), and the figures' hint when matplotlib
is missing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from golden import INPUTS, SENTENCE

import attention_core as ac
from attention_core.views import heatmap


def image_values(figure) -> np.ndarray:
    """The matrix the heatmap's image draws."""
    (image,) = figure.axes[0].get_images()
    return np.asarray(image.get_array())


def test_a_run_plots_its_weights_labelled_with_its_tokens():
    run = ac.attend(SENTENCE)
    figure = heatmap.plot(run)
    axes = figure.axes[0]
    assert axes.get_title() == "Attention weights α = softmax(ω)"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("key j (attended to)", "query i (attending)")
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "Your (1)",
        "␣journey (2)",
        "␣starts (3)",
        "␣with (4)",
        "␣one (5)",
        "␣step (6)",
    ]
    assert figure.axes[1].get_ylabel() == "weight α (each row sums to 1)"
    np.testing.assert_array_equal(image_values(figure), run.attention.weights.double().numpy())
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # it draws
    assert canvas.buffer_rgba().shape[2] == 4


def test_scores_and_a_temperature_are_named():
    run = ac.attend(SENTENCE, temperature=2.0)
    assert heatmap.plot(run).axes[0].get_title() == "Attention weights α = softmax(ω / τ), τ = 2"
    scores = heatmap.plot(run, show="scores")
    assert scores.axes[0].get_title() == "Attention scores ω = X Xᵀ"
    np.testing.assert_array_equal(image_values(scores), run.attention.scores.double().numpy())


def test_a_self_attention_result_takes_tokens_or_counts():
    run = ac.self_attention(ac.BOOK_INPUTS)
    named = heatmap.plot(run, tokens=ac.BOOK_TOKENS)
    assert named.axes[0].get_yticklabels()[1].get_text() == "journey (2)"
    counted = heatmap.plot(run)
    assert counted.axes[0].get_yticklabels()[1].get_text() == "2 (2)"
    np.testing.assert_allclose(image_values(named), torch.softmax(torch.tensor(INPUTS) @ torch.tensor(INPUTS).T, -1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: heatmap.plot(torch.ones(2, 2)), "not Tensor"),
        (lambda: heatmap.plot(ac.self_attention(ac.BOOK_INPUTS), tokens=["a"]), "1 labels but the run has 6"),
        (lambda: heatmap.plot(ac.attend("Hi"), show="context"), "choose 'weights' or 'scores'"),
    ],
    ids=["not_a_run", "labels", "show"],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ac.InputError, match=message):
        call()


def test_without_matplotlib_a_figure_says_which_extra_to_install(monkeypatch):
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails, as when not installed
    with pytest.raises(ModuleNotFoundError, match=r'pip install "attention-core\[figures\]"') as raised:
        heatmap.plot(ac.attend("Hi"))
    assert raised.value.name == "matplotlib"


def test_the_readmes_five_notebook_lines_run_as_documented():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme.split("## Use the library", 1)[1], flags=re.DOTALL)
    (lines,) = [block for block in blocks if "heatmap.plot(run)" in block]
    assert len([line for line in lines.splitlines() if line.strip()]) == 5
    shown: list = []
    namespace = {"display": shown.append}  # Jupyter's display(), recorded
    exec(compile(lines, "README.md", "exec"), namespace)
    (run,) = shown
    assert run.tokens == ["Your", " journey", " starts", " with", " one", " step"]
    assert "<table>" in run._repr_html_()
    figure = namespace["figure"]
    assert figure.axes[0].get_title() == "Attention weights α = softmax(ω)"
    assert figure._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")  # what Jupyter shows inline
    np.testing.assert_array_equal(image_values(figure), run.attention.weights.double().numpy())


def test_the_readmes_book_table_claims_hold():
    torch.testing.assert_close(
        ac.self_attention(ac.BOOK_INPUTS).context[1], torch.tensor([0.4419, 0.6515, 0.5683]), atol=5e-5, rtol=0
    )
