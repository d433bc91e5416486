"""Inputs and their context vectors: a scatter with the inputs' convex hull, and its description in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...tokens import visible_token
from ..palette import color
from .style import DPI, drawn_with, plot_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# At most this many points get a token label in the geometry figure.
HULL_MAX_LABELS = 40
# Inputs are blue circles, context vectors vermillion triangles: shape and colour both tell them apart.
HULL_INPUTS = {"color": color("blue"), "marker": "o"}
HULL_CONTEXT = {"color": color("vermillion"), "marker": "^"}


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """The convex hull of 2D points by Andrew's monotone chain, counter-clockwise, without repeating the start.

    points: (N, 2). Returns (H, 2) hull vertices; collinear points on an edge are dropped, and fewer than
    3 distinct points come back as they are (a point or a segment).

    >>> convex_hull_2d(np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    """
    unique = np.unique(np.asarray(points, dtype=float).reshape(-1, 2), axis=0)  # sorted by x, then y
    if len(unique) < 3:
        return unique

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def chain(ordered: np.ndarray) -> list[np.ndarray]:
        hull: list[np.ndarray] = []
        for point in ordered:
            while len(hull) >= 2 and cross(hull[-2], hull[-1], point) <= 0:
                hull.pop()
            hull.append(point)
        return hull

    lower, upper = chain(unique), chain(unique[::-1])
    return np.array(lower[:-1] + upper[:-1])


@drawn_with(themed=True)
def convex_hull_figure(inputs: torch.Tensor, context: torch.Tensor, tokens: Sequence[str]) -> Figure:
    """Where the context vectors sit relative to the inputs: each is a weighted average, so inside their hull.

    inputs: (T, d), context: (T, d). d == 3: a 3D scatter like the book's figure of the input vectors, with a
    line from each input to its context vector. d == 1 or 2: the vectors themselves; d ≥ 4: both projected
    on the inputs' top two principal components (``facts.project_2d``), the explained variance in the axis
    labels. In 2D, arrows run from each input to its context vector, inside the outline of the inputs'
    convex hull. The first HULL_MAX_LABELS inputs are labelled with their tokens.
    """
    from matplotlib.figure import Figure

    x = inputs.detach().double().cpu().numpy()  # (T, d)
    z = context.detach().double().cpu().numpy()  # (T, d)
    count, dim = x.shape
    labelled = min(count, HULL_MAX_LABELS)
    labels = [plot_label(tokens[i]) for i in range(labelled)]
    input_style = {
        **HULL_INPUTS,
        "s": 36,
        "label": "inputs x⁽ⁱ⁾",
        "zorder": 3,
        "edgecolors": color("ink"),
        "linewidths": 0.5,
    }
    context_style = {
        **HULL_CONTEXT,
        "s": 44,
        "label": "context vectors z⁽ⁱ⁾",
        "zorder": 4,
        "edgecolors": color("ink"),
        "linewidths": 0.5,
    }
    fontsize = 8 if count <= 16 else 7

    width, height = 6.6, 5.4
    figure = Figure(figsize=(width, height), dpi=DPI)
    if dim == 3:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        axes = figure.add_subplot(projection="3d")
        axes.scatter(x[:, 0], x[:, 1], x[:, 2], **input_style)
        axes.scatter(z[:, 0], z[:, 1], z[:, 2], **context_style)
        segments = np.stack([x, z], axis=1)  # (T, 2, 3): input -> context
        axes.add_collection3d(Line3DCollection(segments, colors=color("muted"), linewidths=0.8, alpha=0.8))
        for axis in (axes.xaxis, axes.yaxis, axes.zaxis):
            axis.set_pane_color((1.0, 1.0, 1.0, 0.0))  # no grey panes: the page's background shows through
        for i in range(labelled):
            axes.text(x[i, 0], x[i, 1], x[i, 2], " " + labels[i], fontsize=fontsize).set_parse_math(False)
        axes.set_xlabel("dimension 1")
        axes.set_ylabel("dimension 2")
        axes.set_zlabel("dimension 3")
        axes.set_title("Context vectors (▲) are weighted averages of the inputs (●)", fontsize=10)
        axes.legend(fontsize=8, loc="upper left")
        return figure

    if dim <= 2:
        inputs_2d = np.column_stack([x, np.zeros((count, 2 - dim))])  # (T, 2)
        context_2d = np.column_stack([z, np.zeros((count, 2 - dim))])  # (T, 2)
        x_label = "dimension 1"
        y_label = "dimension 2" if dim == 2 else "(d = 1: a single dimension)"
    else:
        from ...facts import project_2d

        projected_inputs, projected_context, explained = project_2d(inputs, context)
        inputs_2d, context_2d = projected_inputs.numpy(), projected_context.numpy()
        x_label = f"principal component 1 ({explained[0]:.0%} of the inputs' variance)"
        y_label = f"principal component 2 ({explained[1]:.0%})"

    left, bottom, plot_width, plot_height = 0.85, 0.65, 5.45, 4.3
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    hull = convex_hull_2d(inputs_2d)
    if len(hull) >= 2:
        outline = np.vstack([hull, hull[:1]])  # closed
        axes.fill(outline[:, 0], outline[:, 1], color=color("blue"), alpha=0.07, zorder=1)
        axes.plot(
            outline[:, 0],
            outline[:, 1],
            color=color("blue"),
            linewidth=1.0,
            linestyle="--",
            zorder=2,
            label="convex hull of the inputs",
        )
    delta = context_2d - inputs_2d  # (T, 2)
    axes.quiver(
        inputs_2d[:, 0],
        inputs_2d[:, 1],
        delta[:, 0],
        delta[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color=color("muted"),
        width=0.003,
        alpha=0.8,
        zorder=2,
    )
    axes.scatter(inputs_2d[:, 0], inputs_2d[:, 1], **input_style)
    axes.scatter(context_2d[:, 0], context_2d[:, 1], **context_style)
    for i in range(labelled):
        axes.annotate(
            labels[i], (inputs_2d[i, 0], inputs_2d[i, 1]), xytext=(4, 4), textcoords="offset points", fontsize=fontsize
        ).set_parse_math(False)
    if dim == 1:
        axes.set_yticks([])
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.margins(0.12)
    where = "inside the inputs' hull" + (" (projected)" if dim > 3 else "")
    axes.set_title(f"Context vectors (▲) are weighted averages: {where}", fontsize=10)
    axes.legend(fontsize=8, loc="best")
    return figure


def convex_hull_title(dim: int) -> str:
    return "Inputs and their context vectors" + (" (projected)" if dim > 3 else "")


def convex_hull_description(inputs: torch.Tensor, context: torch.Tensor, tokens: Sequence[str]) -> str:
    """What the hull figure shows, in words, from the run's numbers: where it is drawn, and which context
    vector moved farthest from its input (the distance in all d dimensions).

    >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> print(convex_hull_description(x, torch.tensor([[0.5, 0.0], [1.5, 0.0]]), ["a", "b"]))
    Scatter of the 2 inputs x⁽ⁱ⁾ (circles) and their context vectors z⁽ⁱ⁾ (triangles) in dimensions 1 and 2, with \
the outline of the inputs' convex hull and an arrow from each input to its context vector. Every context vector is \
a weighted average of the inputs, so it lies inside their hull. The one farthest from its input is z⁽¹⁾ (a), \
0.5000 away; on average they are 0.5000 away.
    """
    x = inputs.detach().double()  # (T, d)
    z = context.detach().double()  # (T, d)
    count, dim = x.shape
    points = f"the {count} input{'s' if count != 1 else ''} x⁽ⁱ⁾ (circles) and their context vectors z⁽ⁱ⁾ (triangles)"
    if dim == 3:
        where = f"3-D scatter of {points}, each joined to its input by a line."
    else:
        if dim <= 2:
            plane = "in dimensions 1 and 2" if dim == 2 else "on one dimension"
        else:
            from ...facts import project_2d

            explained = project_2d(inputs, context)[2]
            plane = (
                f"projected on the inputs' top two principal components ({explained[0]:.0%} and "
                f"{explained[1]:.0%} of their variance)"
            )
        where = (
            f"Scatter of {points} {plane}, with the outline of the inputs' convex hull and an arrow from each "
            "input to its context vector."
        )
    distances = torch.linalg.vector_norm(z - x, dim=-1)  # (T,)
    far = int(distances.argmax())
    return (
        f"{where[0].upper()}{where[1:]} Every context vector is a weighted average of the inputs, so it lies inside "
        f"their hull. The one farthest from its input is z⁽{_superscript(far + 1)}⁾ ({visible_token(tokens[far])}), "
        f"{float(distances[far]):.4f} away; on average they are {float(distances.mean()):.4f} away."
    )


def _superscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
