"""Console pages for the protected brands: the list (with a try-a-domain box), the add/edit form, removal, and
the extra keywords."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from smishguard.accounts.page_guards import admin_only
from smishguard.accounts.sessions import require_fresh_assertion
from smishguard.detection import services
from smishguard.detection.models import Brand, Keyword
from smishguard.engine.domains import DEFAULT_KEYWORDS, InvalidDomain
from smishguard.errors import SmishguardError


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@admin_only
def brands(request: HttpRequest) -> HttpResponse:
    check = request.GET.get("check", "").strip()
    result = error = None
    if check:
        try:
            result = services.current_matcher().check(check)
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
    return render(request, "detection/brands.html", context)


@admin_only
def brand_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    brand = get_object_or_404(Brand, pk=pk) if pk is not None else None
    values = {
        "name": brand.name if brand else "",
        "domains": ", ".join(brand.domains) if brand else "",
        "tokens": ", ".join(brand.tokens) if brand else "",
        "partners": ", ".join(brand.partners) if brand else "",
    }
    error = None
    if request.method == "POST":
        require_fresh_assertion(request, what="changing the protected brands")
        values = {k: request.POST.get(k, "") for k in values}
        try:
            # An edit (a rename too) changes the row in place after validating: never delete-then-add, which
            # left the brand unprotected when the new details were refused.
            fields = {
                "name": values["name"],
                "domains": _split(values["domains"]),
                "tokens": _split(values["tokens"]),
                "partners": _split(values["partners"]),
                "actor": request.user,
                "request": request,
            }
            saved = services.add_brand(**fields) if brand is None else services.update_brand(brand, **fields)
        except SmishguardError as exc:
            error = exc.message
        else:
            messages.success(request, f"Saved {saved.name}: {', '.join(saved.domains)} will never be flagged.")
            return redirect("detection:brands")
    return render(
        request, "detection/brand_form.html", {"brand": brand, "values": values, "error": error, "nav": "brands"}
    )


@admin_only
@require_POST
def brand_delete(request: HttpRequest, pk: int) -> HttpResponse:
    brand = get_object_or_404(Brand, pk=pk)
    require_fresh_assertion(request, what="changing the protected brands")
    services.delete_brand(brand, actor=request.user, request=request)
    messages.success(request, f"Removed {brand.name} from the protected brands.")
    return redirect("detection:brands")


@admin_only
@require_POST
def keyword_add(request: HttpRequest) -> HttpResponse:
    require_fresh_assertion(request, what="changing the keywords")
    word = request.POST.get("word", "").strip().lower()
    if not word or len(word) > 50 or not word.replace("-", "").isalnum():
        messages.error(request, "A keyword is 1 to 50 letters, digits or hyphens.")
    else:
        counts = services.import_config([], [word], actor=request.user, request=request)
        if counts["keywords_added"]:
            messages.success(request, f"Added the keyword “{word}”.")
        else:
            messages.info(request, f"“{word}” was already a keyword.")
    return redirect("detection:brands")
