"""Two vectors drawn from the origin, for the lecture's "how aligned" step: a small SVG, written by hand.

It follows the figures' conventions (``figures.figure_markup``): inline SVG named for screen readers, a visible
caption computed from the numbers, colours as ``var(--fig-*)`` so the drawing follows the page's theme, and the
two series told apart by dashes as well as colour. It needs no matplotlib.

For d = 2 the vectors are drawn in their own coordinates. For d = 3 (and d = 1) they are drawn in the plane they
span, the query along the horizontal axis: a flat picture of 3-D vectors in which both lengths and the angle
between them are exact.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import torch

from ..sweeps import alignment
from ..tokens import visible_token
from .numbers import num
from .palette import color

SIZE = 300  # CSS pixels, square
MARGIN = 0.28  # of the longest vector, around the drawing, for the labels
MAX_DIM = 3


def _var(name: str) -> str:
    return f"var(--fig-{name}, {color(name)})"


def plane_coordinates(a: torch.Tensor, b: torch.Tensor) -> tuple[tuple[float, float], tuple[float, float]]:
    """2-D coordinates of ``a`` and ``b`` (each (d,), d ≤ 3): their own for d = 2; else in the plane they span,
    turned so that the line halfway between them points up and to the right (lengths and angle kept exactly).

    >>> a, b = plane_coordinates(torch.tensor([0.0, 0.0, 2.0]), torch.tensor([0.0, 3.0, 0.0]))
    >>> [round(v, 6) for v in a + b]
    [2.0, 0.0, 0.0, 3.0]
    """
    if a.numel() == 2:
        x, y = a.double().tolist(), b.double().tolist()
        return (x[0], x[1]), (y[0], y[1])
    split = alignment(a, b)
    theta = math.acos(max(-1.0, min(1.0, split.cosine))) if split.norm_a > 0 and split.norm_b > 0 else 0.0
    first = math.pi / 4 - theta / 2
    return (
        (split.norm_a * math.cos(first), split.norm_a * math.sin(first)),
        (split.norm_b * math.cos(first + theta), split.norm_b * math.sin(first + theta)),
    )


def aligned_figure(a: torch.Tensor, b: torch.Tensor, *, query: int, key: int, tokens: Sequence[str]) -> str:
    """The query vector ``a`` and the key vector ``b`` (each (d,), d ≤ 3) from the origin, with the angle between
    them, as a named figure with its caption; "" when d > 3."""
    if a.numel() > MAX_DIM:
        return ""
    split = alignment(a, b)
    (ax, ay), (bx, by) = plane_coordinates(a, b)
    # The smallest square around the origin and both tips, with room for the labels.
    xs, ys = (0.0, ax, bx), (0.0, ay, by)
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-12)
    half = span * (0.5 + MARGIN)
    centre_x, centre_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = SIZE / (2 * half)

    def point(x: float, y: float) -> tuple[float, float]:
        return SIZE / 2 + (x - centre_x) * scale, SIZE / 2 - (y - centre_y) * scale  # SVG's y grows downwards

    n, m = query + 1, key + 1
    same = query == key
    names = (f"x({n}) {visible_token(tokens[query])}", f"x({m}) {visible_token(tokens[key])}")
    ox, oy = point(0, 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        f'role="img" aria-label="{html.escape(_title(n, m), quote=True)}">',
        "<defs>",
        *(
            f'<marker id="lec-arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{_var(name)}"/></marker>'
            for name in ("blue", "vermillion")
        ),
        "</defs>",
        f'<circle cx="{ox:.1f}" cy="{oy:.1f}" r="3" fill="{_var("ink")}"/>',
        f'<text x="{ox - 6:.1f}" y="{oy + 16:.1f}" text-anchor="end" font-size="12" fill="{_var("ink")}">0</text>',
    ]
    styles = (("blue", ""), ("vermillion", ' stroke-dasharray="6 4"'))
    for (x, y), (colour, dash), name, side in zip(((ax, ay), (bx, by)), styles, names, (1, -1)):
        px, py = point(x, y)
        parts.append(
            f'<line x1="{ox:.1f}" y1="{oy:.1f}" x2="{px:.1f}" y2="{py:.1f}" stroke="{_var(colour)}" '
            f'stroke-width="3"{dash} marker-end="url(#lec-arrow-{colour})"/>'
        )
        # Beside the middle of the arrow, the first vector's label below and to the right, the second's above and to
        # the left: two near-parallel labels part, and the tips (near the square's edge) stay clear.
        width = 7.5 * len(name)  # a generous estimate at 13 px
        mx, my = (ox + px) / 2, (oy + py) / 2
        if side == 1:
            anchor, lx, ly = "start", min(mx + 10, SIZE - 2 - width), min(my + 18, SIZE - 4)
        else:
            anchor, lx, ly = "end", max(mx - 10, width + 2), max(my - 8, 14)
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="13" fill="{_var("ink")}">'
            f"{html.escape(name)}</text>"
        )
        if same:
            break
    if not same and split.norm_a > 0 and split.norm_b > 0:
        start = math.atan2(ay, ax)
        end = math.atan2(by, bx)
        sweep = (end - start + math.pi) % (2 * math.pi) - math.pi  # the short way round
        radius = min(40.0, 0.35 * min(math.hypot(ax, ay), math.hypot(bx, by)) * scale)
        x1, y1 = ox + radius * math.cos(start), oy - radius * math.sin(start)
        x2, y2 = ox + radius * math.cos(start + sweep), oy - radius * math.sin(start + sweep)
        flag = 0 if sweep > 0 else 1
        parts.append(
            f'<path d="M{x1:.1f},{y1:.1f} A{radius:.1f},{radius:.1f} 0 0 {flag} {x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="{_var("ink")}" stroke-width="1.5"/>'
        )
        middle = start + sweep / 2
        tx, ty = ox + (radius + 14) * math.cos(middle), oy - (radius + 14) * math.sin(middle)
        parts.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="13" fill="{_var("ink")}">θ</text>'
        )
    parts.append("</svg>")
    svg = "".join(parts)
    title = _title(n, m)
    description = _description(split, names, a.numel(), same)
    return (
        f'<figure class="fig" id="fig-aligned" style="--fig-width: {SIZE}px; --fig-min-width: {SIZE}px">'
        f'<div class="fig-scroll" data-label="{html.escape(title, quote=True)}">{svg}</div>'
        f"<figcaption>{html.escape(description)}</figcaption></figure>"
    )


def _title(n: int, m: int) -> str:
    return f"The vectors x({n}) and x({m}) drawn from the origin, with the angle θ between them"


def _description(split, names: tuple[str, str], dim: int, same: bool) -> str:
    where = (
        "in their own two coordinates"
        if dim == 2
        else "on one line"
        if dim == 1
        else "in the plane they span (lengths and angle exact)"
    )
    if same:
        return f"{names[0]}, of length {num(split.norm_a)}, drawn {where}."
    return (
        f"{names[0]} (solid) has length {num(split.norm_a)}; {names[1]} (dashed) has length {num(split.norm_b)}; "
        f"the angle between them is θ = {num(split.degrees, decimals=1)}°, cos θ = {num(split.cosine)}. "
        f"Their dot product is {num(split.norm_a)} · {num(split.norm_b)} · {num(split.cosine)} = {num(split.score)}. "
        f"Drawn {where}."
    )
