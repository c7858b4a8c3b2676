"""The tracked link's pages: ``/s/<rid>`` (the drill's sign-in page; a POST to it is a submit) and
``/s/<rid>/lesson``.

THE RULE OF THIS MODULE: nothing here reads the request's body.  ``request.POST``, ``request.body``,
``request.FILES``, ``request.read()`` and ``request.data`` are never touched, so what someone typed into the drill's
page is never parsed, logged or kept.  The view is ``csrf_exempt`` because Django's CSRF middleware would parse a
POST's body to look for the token; no other middleware in settings.MIDDLEWARE reads a body on this path
(the rate limiter reads JSON only on the sign-in API; tests/training/test_landing_nothing_stored.py checks every
middleware).  The page's own form fields have no ``name``, so a browser sends nothing of them either.  Should the
view ever fail, Django's error report cleanses every POST value (``sensitive_post_parameters``).

Both pages are rate-limited (``_counted``: per recipient for a known link, per client address for misses), after
the rid's one look-up and before anything is recorded: a refused request gets a 429 with ``Retry-After`` and
records nothing (no click, no submit).
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
from smishguard.training.models import Recipient

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


def _too_many(request: HttpRequest, refusal: throttle.Refusal) -> HttpResponse:
    """The 429 (``Retry-After``; a plain page in the drill's own style, naming no one)."""
    context = {"company": simulations.company(), "retry_after": refusal.retry_after}
    response = render(request, "training/landing/too_many.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return _private(response)


def _counted(request: HttpRequest, rid: str) -> tuple[Recipient | None, HttpResponse | None]:
    """The recipient of ``rid``, or the answer to send instead (a 404, or a 429), before anything is recorded.

    Two limits (``[rate_limits]``), neither of which holds back a whole office behind one address: a known link
    is counted per recipient (``landing_account``: one person's link opened, submitted or read again and again),
    an unknown one per client address, only when it misses (``landing_address``: on counters of their own, as a
    failed sign-in is; a rid is 192 random bits, so misses are junk, never a way to find a link).  So a real link
    is never refused for the misses of others behind the same address, nor for the clicks of their colleagues.
    A refusal is audited once per source and window as every rate-limit refusal is, its path redacted and the
    recipient named by id, never by rid."""
    recipient = landing.find(rid)
    if recipient is None:
        refusal = throttle.check(request, "landing", counter="landing-missed")
        return None, _too_many(request, refusal) if refusal is not None else _not_found()
    refusal = throttle.check(request, "landing", address=False, account=f"recipient {recipient.pk}")
    return recipient, _too_many(request, refusal) if refusal is not None else None


@csrf_exempt  # the CSRF middleware would parse the body of a POST; see the module's docstring
@sensitive_post_parameters()  # an error report (DEBUG's page, an error e-mail) shows every POST value cleansed
def tracked_link(request: HttpRequest, rid: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    recipient, instead = _counted(request, rid)
    if instead is not None:  # an unknown link, or too many: nothing recorded (no click, no submit)
        return instead
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
    recipient, instead = _counted(request, rid)
    if instead is not None:
        return instead
    return _private(render(request, "training/landing/lesson.html", {"lesson": landing.lesson(recipient)}))
