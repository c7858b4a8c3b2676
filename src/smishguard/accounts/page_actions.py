"""Small helpers shared by the portal and console pages of every app: run a one-line action and flash its outcome."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from smishguard.accounts.errors import StepUpRequired
from smishguard.accounts.page_errors import flash
from smishguard.errors import SmishguardError


def act(
    request: HttpRequest,
    action: Callable[[], object],
    *,
    success: str | Callable[[object], str],
    back: str,
) -> HttpResponse:
    """Run a service call for a POST, flash what happened (or the service's own error), redirect to ``back``."""
    try:
        result = action()
    except StepUpRequired:
        raise
    except SmishguardError as exc:
        flash(request, exc)  # the HTML edge's one conversion (accounts.page_errors), inline for these one-line actions
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(back)


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"
