"""A run's attention matrix as a labelled heatmap, in one call: the notebook's ``heatmap.plot(run)``.

>>> from attention_core import attend
>>> from attention_core.views import heatmap
>>> figure = heatmap.plot(attend("Your journey starts with one step"))
>>> figure.axes[0].get_title(), figure.axes[0].get_xlabel()
('Attention weights α = softmax(ω)', 'key j (attended to)')

A matplotlib ``Figure`` built with the object API (no pyplot state): Jupyter shows it inline (it carries its own
``_repr_png_``), and ``figure.savefig("weights.png")`` writes it. Needs the ``[figures]`` extra (matplotlib).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..attention import SelfAttention
from ..limits import InputError
from ..pipeline import Attended

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot(
    run: Attended | SelfAttention,
    *,
    show: Literal["weights", "scores"] = "weights",
    tokens: Sequence[str] | None = None,
) -> Figure:
    """The (T, T) weights α (or, with ``show="scores"``, the raw scores ω) of ``run`` as a heatmap: rows are
    queries, columns keys, both labelled with the tokens; each cell shows its value up to 12 tokens.

    run: an ``Attended`` (from ``attend``: its tokens label the axes) or a ``SelfAttention`` (from
    ``self_attention``: give ``tokens``, or the axes count 1 to T).
    """
    if isinstance(run, Attended):
        attention, labels = run.attention, list(tokens) if tokens is not None else run.tokens
    elif isinstance(run, SelfAttention):
        attention = run
        labels = list(tokens) if tokens is not None else [str(i + 1) for i in range(run.weights.shape[0])]
    else:
        raise InputError(f"plot needs a run from attend() or self_attention(), not {type(run).__name__}.")
    if show not in ("weights", "scores"):
        raise InputError(f"show is {show!r}; choose 'weights' or 'scores'.")
    count = attention.weights.shape[0]
    if len(labels) != count:
        raise InputError(f"tokens has {len(labels)} labels but the run has {count} tokens; give one per token.")

    from .figures import figure_to_png, heatmap_figure

    tau = attention.temperature
    if show == "scores":
        title, colorbar = "Attention scores ω = X Xᵀ", "score ω"
    else:
        title = (
            "Attention weights α = softmax(ω)" if tau == 1.0 else f"Attention weights α = softmax(ω / τ), τ = {tau:g}"
        )
        colorbar = "weight α (each row sums to 1)"
    matrix = attention.scores if show == "scores" else attention.weights
    figure = heatmap_figure(matrix, labels, title=title, colorbar_label=colorbar)
    # Jupyter draws a Figure inline only once pyplot has set up its inline backend; a figure built with the object
    # API may come first, so this one carries its own PNG (IPython's display looks for _repr_png_ on the object).
    figure._repr_png_ = lambda: figure_to_png(figure)  # type: ignore[attr-defined]
    return figure
