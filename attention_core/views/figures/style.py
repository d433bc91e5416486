"""How every figure is drawn: the fonts (with a fallback for CJK and emoji), token labels, tick spacing and
the theme's colours for the page's figures. matplotlib is imported inside each function."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ...tokens import visible_token
from ..palette import color

if TYPE_CHECKING:
    pass

# Above this many tokens, only every k-th tick is labelled.
MAX_TICK_LABELS = 32
DPI = 100

# The fonts labels are drawn with, in this order: matplotlib takes each glyph from the first installed font that
# has it. DejaVu Sans ships with matplotlib; the others are Debian packages (packages.txt installs them on the
# Space): CJK from Noto, and emoji from Symbola, a font of outlines (Noto Color Emoji is bitmaps only, which
# matplotlib cannot draw). A glyph none of them has is written as its code point (``plot_label``).
FONTS = ("DejaVu Sans", "Noto Sans CJK JP", "Symbola")

F = TypeVar("F", bound=Callable[..., Any])
# What a figure says when matplotlib is missing: the library installs it only with the [figures] extra.
MATPLOTLIB_MISSING = 'The figures need matplotlib: pip install "attention-core[figures]" (or pip install matplotlib).'


@functools.lru_cache(maxsize=1)
def installed_fonts() -> tuple[str, ...]:
    """The FONTS matplotlib finds on this machine, in order (DejaVu Sans always)."""
    from matplotlib import font_manager

    found = []
    for name in FONTS:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        found.append(name)
    return tuple(found)


@functools.lru_cache(maxsize=1)
def _font_charmap() -> frozenset[int]:
    """Every code point one of the installed fonts can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    chars: set[int] = set()
    for name in installed_fonts():
        chars.update(FT2Font(font_manager.findfont(name, fallback_to_default=False)).get_charmap())
    return frozenset(chars)


def plot_label(piece: str, limit: int = 14) -> str:
    """A token piece as a tick label: visible whitespace, and ``\\uXXXX`` for glyphs no installed font has.

    >>> plot_label(" journey")
    '␣journey'
    """
    charmap = _font_charmap()
    text = "".join(
        char if ord(char) in charmap else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in visible_token(piece)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _style(*, themed: bool) -> dict[str, Any]:
    """matplotlib settings for a figure: the fallback fonts, and for the page's figures the theme's colours
    (ink for text and axes, a transparent background)."""
    style: dict[str, Any] = {"font.family": list(installed_fonts())}
    if themed:
        ink, muted, paper = color("ink"), color("muted"), color("paper")
        style |= {
            "text.color": ink,
            "axes.labelcolor": ink,
            "axes.edgecolor": ink,
            "xtick.color": ink,
            "ytick.color": ink,
            "figure.facecolor": "none",
            "axes.facecolor": "none",
            "savefig.facecolor": "none",
            "legend.facecolor": paper,
            "legend.edgecolor": muted,
            "legend.framealpha": 1.0,
            "grid.color": muted,
            "hatch.color": ink,
            "hatch.linewidth": 1.0,
        }
    return style


def drawn_with(*, themed: bool) -> Callable[[F], F]:
    """Build the decorated figure under ``_style``: matplotlib reads most settings when an artist is created."""

    def decorate(build: F) -> F:
        @functools.wraps(build)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                from matplotlib import rc_context
            except ModuleNotFoundError as error:
                raise ModuleNotFoundError(MATPLOTLIB_MISSING, name="matplotlib") from error

            with rc_context(_style(themed=themed)):
                return build(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def numbered_labels(tokens: Sequence[str]) -> list[str]:
    return [f"{plot_label(token)} ({i + 1})" for i, token in enumerate(tokens)]


def tick_positions(count: int) -> list[int]:
    step = max(1, math.ceil(count / MAX_TICK_LABELS))
    return list(range(0, count, step))


def text_inches(labels: Sequence[str], fontsize: float) -> float:
    """A generous estimate of the widest label's length in inches (DejaVu Sans averages ~0.6 em a glyph)."""
    longest = max((len(label) for label in labels), default=1)
    return longest * fontsize * 0.62 / 72
