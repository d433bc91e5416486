"""The smallest Gradio 6 page that shows what our first view shows, as a floor for ``bench_ui.py``.

A Text box, a Run button, an image (elem_id ``heatmap``) and a small table, with the same queue settings as
app.py. Run returns one of two precomputed RGBA images, so that each new text shows a new picture, and a 6 × 5
table; the page fills both on load, as the app's first run does. The images are FLOOR_IMAGE_SIZE ("width,height"
in pixels, default 696,595: the app's heatmap for six tokens) and smooth, so PNG encoding costs what a
figure's does.

Run it with ``python benchmarks/floor_ui.py``; host and port come from GRADIO_SERVER_NAME /
GRADIO_SERVER_PORT. It never imports app.py, so it stays a floor whatever app.py does; its queue settings are
``harness.FLOOR_QUEUE``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402

harness.no_telemetry()

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

FIRST_TEXT = harness.BOOK_SENTENCE


def _picture(width: int, height: int, phase: float) -> np.ndarray:
    """A smooth RGBA picture with a 6 × 6 block pattern, like a heatmap figure: (height, width, 4) uint8."""
    y, x = np.mgrid[0:height, 0:width]
    blocks = ((x * 6 // width) * 7 + (y * 6 // height) * 3 + int(phase * 10)) % 11 / 10.0
    picture = np.empty((height, width, 4), dtype=np.uint8)
    picture[..., 0] = (255 * blocks).astype(np.uint8)
    picture[..., 1] = (255 * (x / width)).astype(np.uint8)
    picture[..., 2] = (255 * (1 - blocks) * (y / height)).astype(np.uint8)
    picture[..., 3] = 255
    return picture


WIDTH, HEIGHT = (int(v) for v in os.environ.get("FLOOR_IMAGE_SIZE", "696,595").split(","))
PICTURES = (_picture(WIDTH, HEIGHT, 0.0), _picture(WIDTH, HEIGHT, 0.5))
TABLE = {
    "headers": ["#", "token", "d1", "d2", "d3"],
    "data": [[str(i + 1), f"token{i}", "0.4300", "0.1500", "0.8900"] for i in range(6)],
}


def run(text: str):
    """One of the two precomputed pictures (the first for the first text), and the table."""
    return PICTURES[0 if text == FIRST_TEXT else 1], TABLE


with gr.Blocks(title="Gradio UI floor", analytics_enabled=False) as demo:
    text = gr.Textbox(value=FIRST_TEXT, label="Text", lines=2)
    button = gr.Button("Run", variant="primary")
    image = gr.Image(type="numpy", format="png", interactive=False, elem_id="heatmap", show_label=False)
    table = gr.Dataframe(interactive=False, elem_id="context-table")
    button.click(run, text, [image, table], api_visibility="private")
    demo.load(run, text, [image, table], api_visibility="private")
demo.queue(**harness.FLOOR_QUEUE)


if __name__ == "__main__":
    demo.launch()
