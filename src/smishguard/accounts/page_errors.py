"""The HTML edge's one conversion of our errors (the JSON API has its handler in ``smishguard.api``, the CLI its
own in ``cli.main``).

``flash_errors(back, *url_kwargs)`` decorates a console or portal view that acts on a POST: a ``SmishguardError``
the view raises is flashed (``messages.error``) and the browser is sent to ``back``, a URL name reversed with the
view's URL arguments named in ``url_kwargs`` (``@flash_errors("reports:campaign", "pk")``).

``ErrorPageMiddleware`` catches what no decorator did, on any page outside /api/: after a POST whose Referer is a
page of this site, flashed and sent back there; else an error page with the error's status.  StepUpRequired is
left to ``web.stepup.StepUpMiddleware`` (the "touch your key" page) in both.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from smishguard.accounts.errors import StepUpRequired
from smishguard.accounts.redirects import is_safe_return_url
from smishguard.errors import RateLimited, SmishguardError

View = Callable[..., HttpResponse]


def as_sentence(message: str) -> str:
    """``nothing to block`` -> ``Nothing to block.`` (the campaign pages' flash style)."""
    return message[:1].upper() + message[1:] + "." if message else message


def flash(request: HttpRequest, exc: SmishguardError, *, sentence: bool = False) -> None:
    messages.error(request, as_sentence(exc.message) if sentence else exc.message)


def flash_errors(back: str, *url_kwargs: str, sentence: bool = False) -> Callable[[View], View]:
    """A view's ``SmishguardError`` (not StepUpRequired) becomes a flashed message and a redirect to ``back``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except StepUpRequired:
                raise
            except SmishguardError as exc:
                flash(request, exc, sentence=sentence)
                return redirect(back, **{name: kwargs[name] for name in url_kwargs})

        return wrapper

    return decorate


def referer_path(request: HttpRequest) -> str | None:
    """The path (and query) of the page the request came from, when that page is on this site; else None."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not is_safe_return_url(referer, request=request):
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():  # another registered host: not a page of ours
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def error_page(request: HttpRequest, exc: SmishguardError) -> HttpResponse:
    response = render(request, "web/error.html", {"message": exc.message}, status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


class ErrorPageMiddleware:
    """A page's uncaught ``SmishguardError``: flashed and back to the Referer on this site, else the error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if (
            not isinstance(exception, SmishguardError)
            or isinstance(exception, StepUpRequired)
            or request.path.startswith("/api/")
        ):
            return None
        back = referer_path(request) if request.method == "POST" else None
        if back is None:
            return error_page(request, exception)
        flash(request, exception)
        return redirect(back)
