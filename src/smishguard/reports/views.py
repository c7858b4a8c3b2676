"""Console pages for detection: the protected brands (with a try-a-domain box) and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from smishguard.accounts import tokens
from smishguard.accounts.models import ApiToken
from smishguard.engine.domains import DEFAULT_KEYWORDS, InvalidDomain
from smishguard.errors import SmishguardError
from smishguard.reports import detection
from smishguard.reports.models import Brand, Keyword
from smishguard.web.guards import admin_only


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@admin_only
def brands(request: HttpRequest) -> HttpResponse:
    check = request.GET.get("check", "").strip()
    result = error = None
    if check:
        try:
            result = detection.current_matcher().check(check)
        except InvalidDomain as exc:
            error = str(exc)
    context = {
        "brands": Brand.objects.all(),
        "keywords": Keyword.objects.all(),
        "default_keywords": sorted(DEFAULT_KEYWORDS),
        "check": check,
        "result": result,
        "check_error": error,
        "nav": "brands",
    }
    return render(request, "reports/brands.html", context)


@admin_only
def brand_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    brand = get_object_or_404(Brand, pk=pk) if pk is not None else None
    values = {
        "name": brand.name if brand else "",
        "domains": ", ".join(brand.domains) if brand else "",
        "tokens": ", ".join(brand.tokens) if brand else "",
    }
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            if brand is not None and values["name"].strip() != brand.name:
                detection.delete_brand(brand, actor=request.user, request=request)
            saved = detection.save_brand(
                name=values["name"],
                domains=_split(values["domains"]),
                tokens=_split(values["tokens"]),
                actor=request.user,
                request=request,
            )
        except SmishguardError as exc:
            error = exc.message
        else:
            messages.success(request, f"Saved {saved.name}: {', '.join(saved.domains)} will never be flagged.")
            return redirect("reports:brands")
    return render(
        request, "reports/brand_form.html", {"brand": brand, "values": values, "error": error, "nav": "brands"}
    )


@admin_only
@require_POST
def brand_delete(request: HttpRequest, pk: int) -> HttpResponse:
    brand = get_object_or_404(Brand, pk=pk)
    detection.delete_brand(brand, actor=request.user, request=request)
    messages.success(request, f"Removed {brand.name} from the protected brands.")
    return redirect("reports:brands")


@admin_only
@require_POST
def keyword_add(request: HttpRequest) -> HttpResponse:
    word = request.POST.get("word", "").strip().lower()
    if not word or len(word) > 50 or not word.replace("-", "").isalnum():
        messages.error(request, "A keyword is 1 to 50 letters, digits or hyphens.")
    else:
        counts = detection.import_config([], [word], actor=request.user, request=request)
        if counts["keywords_added"]:
            messages.success(request, f"Added the keyword “{word}”.")
        else:
            messages.info(request, f"“{word}” was already a keyword.")
    return redirect("reports:brands")


@admin_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    new_secret = None
    error = None
    if request.method == "POST":
        try:
            row, new_secret = tokens.issue(
                request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
                actor=request.user,
                request=request,
            )
        except SmishguardError as exc:
            error = exc.message
        else:
            messages.success(request, f"Issued the token “{row.name}”. Copy it now: it is not shown again.")
    context = {
        "tokens": ApiToken.objects.all(),
        "scopes": ApiToken.SCOPES,
        "new_secret": new_secret,
        "error": error,
        "nav": "tokens",
    }
    # The secret is in this one response only; never cached anywhere.
    response = render(request, "reports/tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin_only
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        row = tokens.revoke(pk, actor=request.user, request=request)
    except SmishguardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Revoked the token “{row.name}”. Requests with it are refused from now on.")
    return redirect(reverse("reports:tokens"))
