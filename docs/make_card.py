"""Draws docs/card.png, the Space's social thumbnail (README front matter ``thumbnail``): 1200 × 630 px, the
size social sites show, with the book's attention weights computed by the library itself.

    python docs/make_card.py
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

import attention_core as ac
from attention_core.views.figures import figure_to_png

CARD = Path(__file__).with_name("card.png")
WIDTH, HEIGHT, DPI = 12.0, 6.3, 100  # inches: 1200 × 630 px


def card() -> Figure:
    run = ac.attend("Your journey starts with one step", table=ac.BOOK_TABLE)
    weights = run.attention.weights.double().numpy()
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor="white")
    figure.text(0.05, 0.80, "Self-attention", fontsize=40, weight="bold")
    figure.text(0.05, 0.70, "without trainable weights", fontsize=26)
    figure.text(0.05, 0.54, "ω = X Xᵀ    α = softmax(ω)    Z = α X", fontsize=20)
    figure.text(0.05, 0.40, "Chapter 3.3 of Build a Large Language Model", fontsize=15, style="italic")
    figure.text(0.05, 0.34, "(From Scratch), live: type a sentence", fontsize=15, style="italic")
    figure.text(0.05, 0.12, "A Gradio Space and a PyTorch library", fontsize=14, color="#444444")
    axes = figure.add_axes((0.60, 0.16, 0.36, 0.36 * WIDTH / HEIGHT))
    axes.imshow(weights, cmap="viridis", interpolation="nearest")
    labels = list(ac.BOOK_TOKENS)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=12)
    axes.set_yticks(range(len(labels)), labels, fontsize=12)
    for i, row in enumerate(weights):
        for j, value in enumerate(row):
            colour = "black" if value > 0.17 else "white"
            axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=10, color=colour)
    axes.set_title("attention weights α, the book's example", fontsize=13)
    return figure


if __name__ == "__main__":
    CARD.write_bytes(figure_to_png(card()))
    print(f"wrote {CARD}")
