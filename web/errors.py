"""How the page and the API refuse: the core's InputError becomes a gr.Error that says what to fix; anything
unexpected is logged with its traceback and shown as one generic sentence, so no internals reach a user."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

import attention_core as ac

log = logging.getLogger("attention_app")
EXPIRED_RUN = (
    "There is no run to show: none has finished yet, or the server no longer keeps this page's run. Press Run."
)
GENERIC_ERROR = "Something went wrong on our side, and it has been logged. Please try again, or try a smaller input."

F = TypeVar("F", bound=Callable[..., Any])


def message(error: Exception) -> str:
    """A core message as the page shows it: inert text, never markup (it may quote the user's input)."""
    return html.escape(str(error), quote=False)


def user_errors(fn: F) -> F:
    """Turn the core's input errors into gr.Error messages; hide and log anything unexpected.

    Only ``InputError`` is shown: its messages are written for users, while another library's ValueError
    may carry internals. An expected refusal logs one line; an unexpected error logs its traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ac.InputError as error:
            log.info("refused in %s: %s", fn.__name__, ac.limits.excerpt(str(error), 200))
            raise gr.Error(message(error), print_exception=False) from None
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    return wrapper  # type: ignore[return-value]


def need_run(run: Any) -> Any:
    """The page's run, or the message that there is none (the session expired, or no run has finished)."""
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    return run
