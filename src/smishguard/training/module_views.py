"""The console's module editor, /console/training/: the modules with their version and how many staff are current,
a new module, a module's page (its versions), an edit (a new version, optionally required of everyone again), a
preview as staff see it, and archiving.  Admins only.

The editor's form: title, content (Markdown), the quiz in its text form (``training.quiz``'s docstring), the pass
mark; "Preview" shows the draft rendered without saving anything, "Save" validates all of it first and writes
nothing when anything is wrong (400 with the form again and the reason).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only
from smishguard.errors import SmishguardError
from smishguard.training import modules, quiz, rendering, states
from smishguard.training.errors import ModuleArchived, ModuleInvalid
from smishguard.training.models import Module

NAV = "training-modules"


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + "." if message else message


@require_GET
@admin_only
def module_list(request: HttpRequest) -> HttpResponse:
    rows = Module.objects.annotate(
        latest=Max("versions__number"),
        assigned=Count("assignments", distinct=True),
        open_assignments=Count("assignments", filter=Q(assignments__completed_at__isnull=True), distinct=True),
    ).order_by("archived_at", "title")
    counts = states.current_counts()
    listing = [{"module": m, "current": counts.get(m.pk, 0)} for m in rows]
    return render(request, "training/module_list.html", {"rows": listing, "nav": NAV})


def _default_due() -> date:
    return (datetime.now(UTC) + timedelta(days=settings.SMISHGUARD.training.new_employee_due_days)).date()


def _due_at(value: str) -> datetime | None:
    """The form's due date (YYYY-MM-DD) as the end of that day, UTC; blank: None (the default)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ModuleInvalid("the due date must be a date (YYYY-MM-DD)") from exc
    due_at = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)
    if due_at <= datetime.now(UTC):
        raise ModuleInvalid("the due date must be today or later")
    return due_at


def _form_values(request: HttpRequest) -> dict[str, object]:
    post = request.POST
    return {
        "slug": post.get("slug", "").strip(),
        "title": post.get("title", ""),
        "content": post.get("content", ""),
        "quiz": post.get("quiz", ""),
        "pass_mark": post.get("pass_mark", "").strip(),
        "requires_everyone_again": post.get("requires_everyone_again") == "on",
        "due": post.get("due", "").strip(),
    }


def _preview(values: dict[str, object]) -> dict[str, object]:
    """The draft as staff would see it (nothing saved): its rendered content and its quiz, or why the quiz is not
    valid yet."""
    preview: dict[str, object] = {"body": rendering.to_html(str(values["content"])), "quiz": None, "quiz_error": None}
    try:
        preview["quiz"] = quiz.parse_text(str(values["quiz"]))
    except SmishguardError as exc:
        preview["quiz_error"] = _sentence(exc.message)
    return preview


def _form(
    request: HttpRequest,
    *,
    module: Module | None,
    values: dict[str, object],
    error: str | None = None,
    preview: dict[str, object] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "module": module,
        "latest": modules.latest_version(module) if module else None,
        "values": values,
        "error": error,
        "preview": preview,
        "default_due": _default_due(),
        "nav": NAV,
    }
    return render(request, "training/module_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_only
def module_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        values = {"slug": "", "title": "", "content": "", "quiz": "", "pass_mark": "80"}
        return _form(request, module=None, values=values)
    values = _form_values(request)
    if request.POST.get("action") == "preview":
        return _form(request, module=None, values=values, preview=_preview(values))
    try:
        module = modules.create(
            slug=str(values["slug"]),
            title=str(values["title"]),
            content=str(values["content"]),
            quiz_items=quiz.parse_text(str(values["quiz"])),
            pass_mark=values["pass_mark"],
            request=request,
        )
    except SmishguardError as exc:
        return _form(request, module=None, values=values, error=_sentence(exc.message), status=exc.status)
    messages.success(request, f"Created the module “{module.title}” (version 1).")
    return redirect("training:module", slug=module.slug)


@require_GET
@admin_only
def module_detail(request: HttpRequest, slug: str) -> HttpResponse:
    module = modules.get(slug)
    versions = module.versions.annotate(
        attempt_count=Count("attempts"), passed_count=Count("attempts", filter=Q(attempts__passed=True))
    ).order_by("-number")
    assignments = module.assignments.all()
    context = {
        "module": module,
        "versions": versions,
        "current": states.current_count(module),
        "assigned": assignments.count(),
        "open_assignments": assignments.filter(completed_at__isnull=True).count(),
        "nav": NAV,
    }
    return render(request, "training/module_detail.html", context)


@require_http_methods(["GET", "POST"])
@admin_only
def module_edit(request: HttpRequest, slug: str) -> HttpResponse:
    module = modules.get(slug)
    if module.archived_at is not None:
        raise ModuleArchived(f"the module {module.slug!r} is archived: it can no longer be edited")
    if request.method == "GET":
        latest = modules.latest_version(module)
        values = {
            "slug": module.slug,
            "title": latest.title,
            "content": latest.content,
            "quiz": quiz.to_text(latest.quiz),
            "pass_mark": str(latest.pass_mark),
            "requires_everyone_again": False,
            "due": "",
        }
        return _form(request, module=module, values=values)
    values = _form_values(request)
    values["slug"] = module.slug
    if request.POST.get("action") == "preview":
        return _form(request, module=module, values=values, preview=_preview(values))
    try:
        version = modules.edit(
            module,
            title=str(values["title"]),
            content=str(values["content"]),
            quiz_items=quiz.parse_text(str(values["quiz"])),
            pass_mark=values["pass_mark"],
            requires_everyone_again=bool(values["requires_everyone_again"]),
            due_at=_due_at(str(values["due"])) if values["requires_everyone_again"] else None,
            request=request,
        )
    except SmishguardError as exc:
        return _form(request, module=module, values=values, error=_sentence(exc.message), status=exc.status)
    note = " Everyone must pass it again: their assignments are open again." if version.requires_everyone_again else ""
    messages.success(request, f"Saved version {version.number} of “{version.title}”.{note}")
    return redirect("training:module", slug=module.slug)


@require_GET
@admin_only
def module_preview(request: HttpRequest, slug: str) -> HttpResponse:
    module = modules.get(slug)
    version = modules.latest_version(module)
    context = {
        "module": module,
        "version": version,
        "body": rendering.to_html(version.content),
        "nav": NAV,
    }
    return render(request, "training/module_preview.html", context)


@require_POST
@admin_only
@flash_errors("training:module", "slug", sentence=True)
def module_archive(request: HttpRequest, slug: str) -> HttpResponse:
    module = modules.archive(modules.get(slug), request=request)
    messages.success(request, f"Archived the module “{module.title}”. Staff no longer see it.")
    return redirect("training:modules")
