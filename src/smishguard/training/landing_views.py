"""The tracked link's pages: ``/s/<rid>`` (the drill's sign-in page; a POST to it is a submit) and
``/s/<rid>/lesson``.

THE RULE OF THIS MODULE: nothing here reads the request's body.  ``request.POST``, ``request.body``,
``request.FILES``, ``request.read()`` and ``request.data`` are never touched, so what someone typed into the drill's
page is never parsed, logged or kept.  The view is ``csrf_exempt`` because Django's CSRF middleware would parse a
POST's body to look for the token; no other middleware in settings.MIDDLEWARE reads a body on this path
(the rate limiter reads JSON only on the sign-in API; tests/training/test_landing_nothing_stored.py checks every
middleware).  The page's own form fields have no ``name``, so a browser sends nothing of them either.  Should the
view ever fail, Django's error report cleanses every POST value (``sensitive_post_parameters``).

Both pages are limited per client address (``[rate_limits] landing_address``, accounts.throttle's counters) before
the rid is looked up: a refused request gets a 429 with ``Retry-After`` and records nothing (no click, no submit).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from smishguard.accounts import throttle
from smishguard.training import landing, simulations

NOT_FOUND = "Not found\n"


def _not_found() -> HttpResponse:
    """The same plain 404 for an unknown link and an unknown lesson: nothing tells a guess from a typo."""
    response = HttpResponse(NOT_FOUND, status=404, content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _over_the_limit(request: HttpRequest) -> HttpResponse | None:
    """``[rate_limits] landing_address`` per client address, before the rid is looked up or anything recorded:
    None, or the 429 to send (``Retry-After``; a plain page in the drill's own style, naming no one; the refusal
    audited once per source and window as every rate-limit refusal is, its path redacted)."""
    refusal = throttle.check(request, "landing")
    if refusal is None:
        return None
    context = {"company": simulations.company(), "retry_after": refusal.retry_after}
    response = render(request, "training/landing/too_many.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return _private(response)


@csrf_exempt  # the CSRF middleware would parse the body of a POST; see the module's docstring
@sensitive_post_parameters()  # an error report (DEBUG's page, an error e-mail) shows every POST value cleansed
def tracked_link(request: HttpRequest, rid: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    refused = _over_the_limit(request)
    if refused is not None:  # nothing recorded: no click, no submit
        return refused
    recipient = landing.find(rid)
    if recipient is None:
        return _not_found()
    if request.method == "HEAD":  # a preview fetcher or a link checker: a bare 200, no click
        return _private(HttpResponse(b"", content_type="text/html; charset=utf-8"))
    lesson_url = reverse("landing:lesson", args=[recipient.rid])
    if request.method == "POST":
        landing.record_submit(recipient, request=request)  # the body is not read: not here, not there
        return _private(HttpResponseRedirect(lesson_url, status=303))
    if not landing.is_preview_fetcher(request.META.get("HTTP_USER_AGENT", "")):
        landing.record_click(recipient)
    context = {
        "company": simulations.company(),
        "lesson_url": lesson_url,
        "refresh_after": settings.SMISHGUARD.training.lesson_after_seconds,
    }
    return _private(render(request, "training/landing/signin.html", context))


def lesson(request: HttpRequest, rid: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    refused = _over_the_limit(request)
    if refused is not None:
        return refused
    recipient = landing.find(rid)
    if recipient is None:
        return _not_found()
    return _private(render(request, "training/landing/lesson.html", {"lesson": landing.lesson(recipient)}))
