"""Views of a ``Training`` (``attention_core.training``): the /train answer as JSON, the loss curve, the query's
weight row at a checkpoint against before, the learned W_query and W_key as heatmaps, and the training's summary.
The panel's fixed texts are in ``lessons``, which the page loads before torch.

Positions are 0-based in the core; every text and figure here counts tokens from 1, like the page. matplotlib is
imported inside the figure functions, so importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..tokens import visible_token
from .figures.style import DPI, drawn_with, numbered_labels, plot_label, text_inches, tick_positions
from .numbers import num
from .palette import color
from .serialize import shortest_floats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..training import Training

# The learned matrices are drawn whole up to this size; a larger d shows its top-left block, and says so.
MATRIX_SHOWN = 16
# Numbers are written in the heatmaps' cells up to this size.
MATRIX_ANNOTATED = 6


def training_json(tokens: Sequence[str], result: Training) -> dict:
    """The /train answer: positions counted from 1, every float32 as its shortest decimal.

    loss has steps + 1 entries (loss[t] after t Adam steps); weights_before, weights_after and each checkpoint row
    have one weight per token; w_query and w_key are d × d_k.
    """
    return {
        "tokens": list(tokens),
        "query": result.query + 1,
        "key": result.key + 1,
        "steps": result.steps,
        "learning_rate": result.learning_rate,
        "loss": shortest_floats(result.loss),
        "weights_before": shortest_floats(result.weights_before),
        "weights_after": shortest_floats(result.weights_after),
        "w_query": shortest_floats(result.w_query),
        "w_key": shortest_floats(result.w_key),
        "checkpoint_steps": list(result.checkpoint_steps),
        "checkpoint_weights": shortest_floats(result.checkpoint_weights),
    }


def pair_name(tokens: Sequence[str], result: Training) -> str:
    """``α(␣warm → ␣mat)``: the trained pair, with visible tokens."""
    return f"α({visible_token(tokens[result.query])} → {visible_token(tokens[result.key])})"


# --- the loss curve -------------------------------------------------------------------------------------------


def loss_title(tokens: Sequence[str], result: Training) -> str:
    query, key = plot_label(tokens[result.query]), plot_label(tokens[result.key])
    return f"Loss −log α({query} → {key}) per step"


@drawn_with(themed=True)
def loss_figure(tokens: Sequence[str], result: Training, *, checkpoint: int | None = None) -> Figure:
    """The loss after each step, 0 to ``steps``; with ``checkpoint`` (an index into checkpoint_steps), that step
    is marked with a diamond and a vertical line."""
    from matplotlib.figure import Figure

    loss = result.loss.double().numpy()
    steps = np.arange(loss.shape[0])
    plot_width, plot_height = 2.9, 1.9
    left, bottom, top, right = 0.7, 0.55, 0.45, 0.25
    width, height = left + plot_width + right, bottom + plot_height + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    axes.plot(steps, loss, color=color("blue"), linewidth=1.6)
    if checkpoint is not None:
        step = result.checkpoint_steps[checkpoint]
        axes.axvline(step, color=color("muted"), linewidth=0.8, linestyle="--")
        axes.plot(
            [step], [loss[step]], marker="D", markersize=6, color=color("vermillion"), markeredgecolor=color("ink")
        )
    axes.set_xlim(0, max(1, result.steps))
    axes.set_ylim(0, max(1e-9, float(loss.max())) * 1.08)
    axes.set_xlabel("Adam step")
    axes.set_ylabel("loss")
    axes.set_title(loss_title(tokens, result), fontsize=10).set_parse_math(False)
    return figure


def loss_description(tokens: Sequence[str], result: Training, *, checkpoint: int | None = None) -> str:
    """The loss curve in words, from its numbers.

    >>> import torch
    >>> from attention_core.training import train_query_key
    >>> result = train_query_key(torch.eye(2), 0, 1, steps=20)
    >>> loss_description(["a", "b"], result).split(": ")[1]
    'the loss −log α(a → b) after each of 20 Adam steps'
    """
    loss = result.loss.double()
    text = (
        f"Line: the loss −log {pair_name(tokens, result)} after each of {result.steps} Adam steps: "
        f"{num(float(loss[0]))} before training, {num(float(loss[-1]))} after"
    )
    if checkpoint is not None:
        step = result.checkpoint_steps[checkpoint]
        text += f"; the diamond marks step {step}, where it is {num(float(loss[step]))}"
    return text + "."


# --- the query's weight row, before and at a checkpoint --------------------------------------------------------

# Before training: plain blue bars; at the checkpoint: hatched vermillion (told apart without colour too).
BEFORE_BARS = {"color": color("blue"), "hatch": ""}
AT_BARS = {"color": color("vermillion"), "hatch": "//"}
# Above this many keys, bars become lines: hundreds of patches are slow to draw.
ROW_AS_LINES_ABOVE = 40


def row_title(tokens: Sequence[str], result: Training, checkpoint: int) -> str:
    step = result.checkpoint_steps[checkpoint]
    return f"Weights of query {result.query + 1} ({plot_label(tokens[result.query])}): before and after {step} steps"


@drawn_with(themed=True)
def row_figure(tokens: Sequence[str], result: Training, checkpoint: int) -> Figure:
    """The query's attention weights over every key: before training and after checkpoint ``checkpoint``'s step,
    side by side; the trained key's label is marked with ★."""
    from matplotlib.figure import Figure

    before = result.weights_before.double().numpy()
    now = result.checkpoint_weights[checkpoint].double().numpy()
    step = result.checkpoint_steps[checkpoint]
    count = before.shape[0]
    labels = numbered_labels(tokens)
    labels[result.key] = "★ " + labels[result.key]
    ticks = tick_positions(count)
    shown = [labels[i] for i in ticks]
    label_inches = text_inches(shown, 8)
    plot_width, plot_height = min(8.0, 2.0 + 0.35 * min(count, 40)), 2.2
    left, bottom, top, right = 0.7, label_inches * 0.87 + 0.3, 0.75, 0.2  # the legend sits above the plot
    width, height = left + plot_width + right, bottom + plot_height + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    positions = np.arange(count)
    after_label = f"after {step} step{'s' if step != 1 else ''}"
    if count > ROW_AS_LINES_ABOVE:
        axes.vlines(positions - 0.2, 0, before, color=BEFORE_BARS["color"], linewidth=1.0, label="before")
        axes.vlines(positions + 0.2, 0, now, color=AT_BARS["color"], linewidth=1.6, label=after_label)
    else:
        for offset, values, style, label in ((-0.2, before, BEFORE_BARS, "before"), (0.2, now, AT_BARS, after_label)):
            axes.bar(
                positions + offset,
                values,
                width=0.4,
                color=style["color"],
                hatch=style["hatch"],
                edgecolor=color("ink"),
                linewidth=0.6,
                label=label,
            )
    # The trained key is starred above its bars too: with many keys its tick may be unlabelled.
    axes.text(result.key, max(before[result.key], now[result.key]) + 0.02, "★", ha="center", va="bottom", fontsize=9)
    axes.set_xlim(-0.6, count - 0.4)
    axes.set_ylim(0, 1.12)
    axes.set_xticks(ticks, shown, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    for label in axes.get_xticklabels():
        label.set_parse_math(False)
    axes.set_ylabel("weight α")
    axes.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.01), ncols=2, borderaxespad=0, handleheight=1.4)
    axes.set_title(row_title(tokens, result, checkpoint), fontsize=10, pad=22).set_parse_math(False)
    return figure


def row_description(tokens: Sequence[str], result: Training, checkpoint: int) -> str:
    """The row figure in words: the trained key's weight before and at the checkpoint, and the largest weight."""
    now = result.checkpoint_weights[checkpoint].double()
    before = result.weights_before.double()
    step = result.checkpoint_steps[checkpoint]
    key, query = result.key, result.query
    top = int(now.argmax())
    return (
        f"Bars: the attention weights of query {query + 1} ({visible_token(tokens[query])}) over its {now.shape[0]} "
        f"keys, before training (plain) and after {step} of {result.steps} steps (hatched). The trained key "
        f"{key + 1} (★ {visible_token(tokens[key])}) gets {num(float(before[key]))} before and {num(float(now[key]))} "
        f"after {step} steps; the largest weight now is {num(float(now[top]))}, key {top + 1} "
        f"({visible_token(tokens[top])})."
    )


# --- the learned matrices -------------------------------------------------------------------------------------


def matrices_title(result: Training) -> str:
    dim, key_dim = result.w_query.shape
    return f"The learned W_query and W_key ({dim} × {key_dim})"


@drawn_with(themed=True)
def matrices_figure(result: Training) -> Figure:
    """W_query and W_key side by side as heatmaps on one colour scale centred at 0; the top-left MATRIX_SHOWN ×
    MATRIX_SHOWN block when d or d_k is larger, with numbers in the cells up to MATRIX_ANNOTATED."""
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    dim, key_dim = result.w_query.shape
    rows, columns = min(dim, MATRIX_SHOWN), min(key_dim, MATRIX_SHOWN)
    blocks = [m[:rows, :columns].double().numpy() for m in (result.w_query, result.w_key)]
    limit = max(1e-9, max(float(np.abs(block).max()) for block in blocks))
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    side = 1.4
    cell = side / max(rows, columns)
    plot_w, plot_h = cell * columns, cell * rows
    partial = (rows, columns) != (dim, key_dim)
    left, gap, bottom, top, right = 0.4, 0.45, 0.45, 0.75 if partial else 0.55, 0.7
    width, height = left + 2 * plot_w + gap + right, bottom + plot_h + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    image = None
    annotate = rows <= MATRIX_ANNOTATED and columns <= MATRIX_ANNOTATED
    for index, (name, block) in enumerate(zip(("W_query", "W_key"), blocks)):
        x0 = left + index * (plot_w + gap)
        axes = figure.add_axes((x0 / width, bottom / height, plot_w / width, plot_h / height))
        image = axes.imshow(block, cmap=MATRIX_COLORMAP, norm=norm, interpolation="nearest", aspect="auto")
        column_ticks, row_ticks = _matrix_ticks(columns), _matrix_ticks(rows)
        axes.set_xticks(column_ticks, [str(j + 1) for j in column_ticks], fontsize=7)
        axes.set_yticks(row_ticks, [str(i + 1) for i in row_ticks], fontsize=7)
        axes.set_title(name, fontsize=9)
        if annotate:
            for i in range(rows):
                for j in range(columns):
                    value = block[i, j]
                    axes.text(
                        j,
                        i,
                        f"{value:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if abs(value) > 0.6 * limit else "black",
                    )
    colorbar_axes = figure.add_axes(((width - right + 0.25) / width, bottom / height, 0.15 / width, plot_h / height))
    figure.colorbar(image, cax=colorbar_axes)
    shown = "" if not partial else f"\nrows 1–{rows} and columns 1–{columns} shown"
    figure.suptitle(matrices_title(result) + shown, fontsize=10, y=1 - 0.08 / height, va="top")
    return figure


def _matrix_ticks(count: int) -> list[int]:
    """Every row or column up to 8; beyond, 1, 5, 10, 15 (0-based positions)."""
    return list(range(count)) if count <= 8 else [0, *range(4, count, 5)]


# A diverging colour-blind-safe map, centred at 0 (the identity's off-diagonal), for signed matrix entries.
MATRIX_COLORMAP = "PuOr_r"


def matrices_description(result: Training) -> str:
    """The heatmaps in words: how far training moved each matrix from where it started, and its largest entry."""
    from ..training import initial_projections

    dim, key_dim = result.w_query.shape
    start_query, start_key = initial_projections(dim, key_dim, init=result.init, seed=result.seed)
    parts = []
    for name, learned, start in (("W_query", result.w_query, start_query), ("W_key", result.w_key, start_key)):
        moved = float((learned.double() - start).abs().max())
        largest = float(learned.double().abs().max())
        parts.append(
            f"{name}'s entries moved by at most {num(moved)} from the start; its largest |entry| is {num(largest)}"
        )
    shown = (
        ""
        if dim <= MATRIX_SHOWN and key_dim <= MATRIX_SHOWN
        else f" The figure shows the top-left {min(dim, MATRIX_SHOWN)} × {min(key_dim, MATRIX_SHOWN)} block."
    )
    start = "W = I" if result.init == "identity" else f"random N(0, 1/d) matrices (seed {result.seed})"
    return (
        f"Heatmaps of the learned W_query and W_key, {dim} × {key_dim} each, trained from {start}. "
        + "; ".join(parts)
        + "."
        + shown
    )


# --- the summary --------------------------------------------------------------------------------------------------


def summary_markdown(tokens: Sequence[str], result: Training) -> str:
    """One paragraph: what was trained, and the trained pair's weight and loss before and after (Markdown)."""
    from .tokens import token_code

    before, after = float(result.weights_before[result.key]), float(result.weights_after[result.key])
    loss = result.loss.double()
    dim, key_dim = result.w_query.shape
    query, key = token_code(tokens[result.query]), token_code(tokens[result.key])
    top = int(result.weights_after.argmax())
    largest = (
        "It is now the query's largest weight."
        if top == result.key
        else f"The query's largest weight is still {token_code(tokens[top])}'s, "
        f"{num(float(result.weights_after[top]))}: train for more steps."
    )
    return (
        f"**{query} (token {result.query + 1}) → {key} (token {result.key + 1})**: after {result.steps} Adam step"
        f"{'s' if result.steps != 1 else ''} (learning rate {result.learning_rate:g}) on W_query and W_key "
        f"({dim} × {key_dim} each), its weight went from **{num(before)}** to **{num(after)}**, and the loss "
        f"−log α from {num(float(loss[0]))} to {num(float(loss[-1]))}. {largest}"
    )
