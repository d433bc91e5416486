"""From a sentence (and optionally a table) to every step of self-attention, with every input checked."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

import torch

from .attention import SelfAttention, self_attention
from .embeddings import random_embeddings
from .limits import InputError, check_dim, check_seed, check_temperature, check_text, check_token_count
from .tables import parse_embedding_table
from .tokens import tokenize, visible_token

# A run's rich display (Attended._repr_html_) shows at most this many tokens' rows and columns.
REPR_MAX_TOKENS = 24


@dataclass(frozen=True)
class Attended:
    """A checked run of weight-free self-attention.

    tokens: T text pieces (or the table's labels when no text was given).
    ids: T GPT-2 token ids, or None when the tokens are a table's labels.
    source: "random" (the seeded nn.Embedding table) or "table" (the user's).
    dim, seed: the random table's settings (seed is None for a user table).
    attention: inputs (T, d), scores (T, T), weights (T, T), context (T, d), and τ in softmax(ω / τ).
    """

    tokens: list[str]
    ids: list[int] | None
    source: Literal["random", "table"]
    dim: int
    seed: int | None
    attention: SelfAttention

    @property
    def temperature(self) -> float:
        """τ in softmax(ω / τ); 1 is the book's weight-free attention."""
        return self.attention.temperature

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the weights as a table, rows are queries, columns keys, shaded by weight.

        Weights lie in [0, 1], so 4 decimals (the book's) never claim more digits than float32 holds. Tokens are
        escaped: a token is user text, never markup. Past ``REPR_MAX_TOKENS`` tokens, the first ones are shown.
        """
        count = len(self.tokens)
        shown = min(count, REPR_MAX_TOKENS)
        labels = [html.escape(visible_token(token)) for token in self.tokens[:shown]]
        weights = self.attention.weights[:shown, :shown].tolist()
        source = (
            f"seeded random embeddings, d = {self.dim}, seed = {self.seed}"
            if self.source == "random"
            else (f"your table, d = {self.dim}")
        )
        tau = "softmax(ω)" if self.temperature == 1.0 else f"softmax(ω / τ), τ = {self.temperature:g}"
        caption = f"Attention weights α = {tau} of {count} token{'s' if count != 1 else ''} ({source})"
        if shown < count:
            caption += f"; the first {shown} rows and columns"
        cell = "padding:2px 6px;text-align:right;font-variant-numeric:tabular-nums;color:#000"
        head = "".join(f'<th scope="col" style="padding:2px 6px">{label}</th>' for label in labels)
        rows = []
        for label, row in zip(labels, weights):
            # From white (0) to a mid blue (1): black text keeps a contrast above 4.5 everywhere.
            cells = "".join(
                f'<td style="{cell};background:hsl(210,80%,{100 - 45 * value:.0f}%)">{value:.4f}</td>' for value in row
            )
            rows.append(f'<tr><th scope="row" style="padding:2px 6px;text-align:left">{label}</th>{cells}</tr>')
        return (
            f'<table><caption style="caption-side:top;text-align:left">{html.escape(caption)}</caption>'
            f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


def attend(text: str, *, dim: object = 3, seed: object = 123, table: str = "", temperature: object = 1.0) -> Attended:
    """Tokenize ``text``, embed it (seeded random table, or ``table`` when non-empty), and attend.

    ``temperature`` τ divides the scores before the softmax (1, the default, is the book's case).

    Raises InputError (a ValueError) with a message that says what to fix.

    >>> run = attend("Your journey starts with one step")
    >>> len(run.tokens), tuple(run.attention.weights.shape)
    (6, (6, 6))
    """
    if text is not None and not isinstance(text, str):
        raise InputError(f"The text must be a string, not {type(text).__name__}.")
    if table is not None and not isinstance(table, str):
        raise InputError(f"The table must be text, not {type(table).__name__}.")
    table_text = table or ""
    has_table = bool(table_text.strip())
    has_text = isinstance(text, str) and text != ""

    if has_table:
        parsed = parse_embedding_table(table_text)
        if not has_text:
            if parsed.labels is None:
                raise InputError(
                    "The text is empty and the table has no label column, so there are no tokens to show. "
                    "Type the text, or start each table row with its token."
                )
            tokens, ids = parsed.labels, None
        else:
            text = check_text(text)
            tokenized = tokenize(text)
            check_token_count(len(tokenized.ids))
            tokens, ids = tokenized.tokens, tokenized.ids
            rows = parsed.vectors.shape[0]
            if rows != len(tokens):
                shown = ", ".join(visible_token(t) for t in tokens[:12]) + (", …" if len(tokens) > 12 else "")
                raise InputError(
                    f"The table has {rows} rows but the text has {len(tokens)} tokens ({shown}). "
                    "Give one row per token, in order.",
                    kind="rows_vs_tokens",
                )
        inputs = parsed.vectors
        source: Literal["random", "table"] = "table"
        dim_used, seed_used = int(inputs.shape[1]), None
    else:
        text = check_text(text)
        dim_used, seed_used = check_dim(dim), check_seed(seed)
        tokenized = tokenize(text)
        check_token_count(len(tokenized.ids))
        tokens, ids = tokenized.tokens, tokenized.ids
        inputs = random_embeddings(ids, dim=dim_used, seed=seed_used)
        source = "random"

    tau = 1.0 if temperature == 1.0 and not isinstance(temperature, bool) else check_temperature(temperature)
    result = self_attention(inputs, temperature=tau)
    if not bool(torch.isfinite(result.scores).all()):
        largest = float(inputs.double().pow(2).sum(dim=1).max())
        raise InputError(
            f"The embeddings are so large that their dot products overflow float32: the largest score would be "
            f"≈ {largest:.3g}, beyond float32's maximum ≈ 3.4e38, so the scores are inf and softmax would give NaN. "
            "Scale the table down (entries around 1 are typical)."
        )
    return Attended(tokens=tokens, ids=ids, source=source, dim=dim_used, seed=seed_used, attention=result)
