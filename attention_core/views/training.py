"""Views of a ``Training`` (``attention_core.training``): the /train answer as JSON, the loss curve, the query's
weight row at a checkpoint against before, the learned W_query and W_key as heatmaps, and the panel's texts.

Positions are 0-based in the core; every text and figure here counts tokens from 1, like the page. matplotlib is
imported inside the figure functions, so importing this module stays light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..tokens import visible_token
from .figures import _drawn_with, _numbered_labels, _tick_positions, _text_inches, plot_label
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
