"""A run's rich display in Jupyter (``Attended._repr_html_``): the weights as an HTML table, tokens escaped."""

from __future__ import annotations

import html
import re

import torch
from golden import SENTENCE, WEIGHTS
from reference import recipe_inputs

import attention_core as ac
from attention_core.pipeline import REPR_MAX_TOKENS

BOOK_CSV = "\n".join(",".join(f"{v:.2f}" for v in row) for row in ac.BOOK_INPUTS)


def cells(markup: str) -> list[list[float]]:
    rows = re.findall(r"<tr><th scope=\"row\".*?</tr>", markup)
    return [[float(value) for value in re.findall(r">([0-9.]+)</td>", row)] for row in rows]


def headers(markup: str) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', markup)]


def test_the_books_run_shows_the_books_weights():
    markup = ac.attend(SENTENCE, table=BOOK_CSV)._repr_html_()
    assert cells(markup) == WEIGHTS
    assert headers(markup) == ["Your", "␣journey", "␣starts", "␣with", "␣one", "␣step"]
    assert "Attention weights α = softmax(ω) of 6 tokens (your table, d = 3)</caption>" in markup


def test_a_seeded_run_names_its_recipe_and_temperature():
    run = ac.attend(SENTENCE, dim=4, seed=9, temperature=2.0)
    markup = run._repr_html_()
    assert "softmax(ω / τ), τ = 2 of 6 tokens (seeded random embeddings, d = 4, seed = 9)" in markup
    x = recipe_inputs(run.ids, dim=4, seed=9).double()
    reference = torch.softmax(x @ x.T / 2.0, dim=-1)  # float64
    shown = torch.tensor(cells(markup), dtype=torch.float64)
    torch.testing.assert_close(shown, reference, atol=5e-5 + 1e-6, rtol=0)  # 4 decimals: half a unit, and float32


def test_tokens_are_text_never_markup():
    markup = ac.attend("<script>alert(1)</script> & <b>")._repr_html_()
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;" in markup and "&amp;" in markup


def test_a_long_run_shows_its_first_rows_and_says_so():
    run = ac.attend("word " * 40)
    markup = run._repr_html_()
    assert len(cells(markup)) == REPR_MAX_TOKENS and len(cells(markup)[0]) == REPR_MAX_TOKENS
    assert f"of {len(run.tokens)} tokens" in markup and f"the first {REPR_MAX_TOKENS} rows and columns" in markup
