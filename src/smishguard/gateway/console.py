"""Console pages of the gateway: the route policy as the running server loaded it, and "try a request"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smishguard.accounts.page_guards import admin_only
from smishguard.config import ConfigError
from smishguard.gateway import loading, rules, trial

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@admin_only
def rules_page(request: HttpRequest) -> HttpResponse:
    """The rules in file order, the default policy and the trusted proxies, and a form that tries a request
    (employee, method, URL, client address, seconds since the key was touched) -> the deciding rule, the
    decision and why: the same answer as ``smishguard gateway check``."""
    policy = rules.current()
    problem = None
    try:
        loading.check_groups(policy)
    except ConfigError as exc:
        problem = str(exc)
    form = {
        "user": request.GET.get("user", "").strip(),
        "method": request.GET.get("method", "GET").strip() or "GET",
        "url": request.GET.get("url", "").strip(),
        "address": request.GET.get("address", "").strip(),
        "seconds": request.GET.get("seconds", "").strip(),
    }
    tried = error = None
    if form["url"]:
        try:
            seconds = float(form["seconds"]) if form["seconds"] else 0.0
        except ValueError:
            error = "the seconds since the last key touch must be a number >= 0"
        else:
            try:
                tried = trial.run(
                    policy,
                    url=form["url"],
                    email=form["user"] or None,
                    method=form["method"],
                    address=form["address"] or None,
                    seconds_since_key=seconds,
                )
            except trial.TrialError as exc:
                error = exc.message
    context = {
        "policy": policy,
        "fingerprint": rules.fingerprint(),
        "problem": problem,
        "form": form,
        "methods": METHODS,
        "tried": tried,
        "error": error,
        "nav": "gateway-rules",
    }
    return render(request, "gateway/rules.html", context)
