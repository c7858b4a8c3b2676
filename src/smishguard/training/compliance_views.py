"""Console (admins only): the compliance table (each active employee's state per module, filtered by state,
module or person) and the assign form (a module to a group, a department or everyone, with a due date).  The
same as ``smishguard training status`` and ``smishguard training assign``; each assignment is audited."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from smishguard.accounts.models import Employee, Group
from smishguard.accounts.page_guards import admin_only
from smishguard.errors import SmishguardError
from smishguard.training import compliance
from smishguard.training.compliance import State
from smishguard.training.models import Module

PAGE_SIZE = 100
NAV = "training-compliance"
# The badge of each state on the page.
BADGES = {
    State.CURRENT: "success",
    State.ASSIGNED: "info",
    State.DUE_SOON: "warning",
    State.OVERDUE: "danger",
    State.NOT_ASSIGNED: "neutral",
}
LABELS = {
    State.CURRENT: "Current",
    State.ASSIGNED: "Assigned",
    State.DUE_SOON: "Due soon",
    State.OVERDUE: "Overdue",
    State.NOT_ASSIGNED: "Not assigned",
}


def overdue_count(_request: HttpRequest) -> int:
    """The menu entry's badge: open assignments past their due date."""
    from smishguard.training.models import Assignment

    return Assignment.objects.filter(
        completed_at__isnull=True, due_at__lt=timezone.now(), employee__status=Employee.Status.ACTIVE
    ).count()


@require_http_methods(["GET", "HEAD"])
@admin_only
def table(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "").strip()
    module = request.GET.get("module", "").strip()
    query = request.GET.get("q", "").strip()
    if request.GET.get("overdue"):
        state = State.OVERDUE.value
    if state not in {s.value for s in State}:
        state = ""
    modules = Module.objects.filter(archived_at__isnull=True)
    people = compliance.active_employees()
    if query:
        people = people.filter(email__icontains=query) | people.filter(department__icontains=query)
    all_rows = compliance.status(
        employees=people, modules=modules.filter(slug=module) if module else modules, now=timezone.now()
    )
    counts = dict.fromkeys(State, 0)
    for row in all_rows:
        counts[row.state] += 1
    rows = [r for r in all_rows if not state or r.state == state]
    params = {k: v for k, v in (("state", state), ("module", module), ("q", query)) if v}
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "page": page,
        "rows": [(row, BADGES[row.state], LABELS[row.state]) for row in page.object_list],
        "stats": [(s.value, LABELS[s], counts[s], BADGES[s]) for s in State],
        "states": [(s.value, LABELS[s]) for s in State],
        "modules": modules.order_by("title"),
        "flt": {"state": state, "module": module, "q": query},
        "filter_query": urlencode(params),
    }
    return render(request, "training/compliance_table.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@admin_only
def assign(request: HttpRequest) -> HttpResponse:
    modules = Module.objects.filter(archived_at__isnull=True).order_by("title")
    values = {"module": "", "target": "group", "group": "", "department": "", "due": ""}
    if request.method == "POST":
        values.update({key: request.POST.get(key, "").strip() for key in values})
        try:
            module = compliance.module_by_slug(values["module"])
            due_at = compliance.parse_due(values["due"])
            target = values["target"]
            people = compliance.target_employees(
                group=values["group"] if target == "group" else None,
                department=values["department"] if target == "department" else None,
                everyone=target == "all",
            )
            result = compliance.assign_to(module, people, due_at=due_at, assigned_by=request.user.email)
        except SmishguardError as exc:
            return _form(request, modules, values, error=exc.message, status=400)
        messages.success(
            request,
            f"Assigned “{module.title}” to {result.assigned} of {result.targeted} employee(s), due {values['due']}. "
            "Anyone who already had it open with an earlier date, or is current on it, keeps what they had.",
        )
        return redirect("compliance:table")
    return _form(request, modules, values)


def _form(request: HttpRequest, modules, values: dict[str, str], *, error: str = "", status: int = 200):
    context = {
        "nav": NAV,
        "modules": modules,
        "groups": Group.objects.order_by("name").values_list("name", flat=True),
        "departments": sorted(
            {d for d in compliance.active_employees().values_list("department", flat=True) if d}, key=str.lower
        ),
        "values": values,
        "error": error,
        "today": timezone.localdate(timezone=compliance.company_zone()).isoformat(),
        "zone": str(compliance.company_zone()),
    }
    return render(request, "training/compliance_assign.html", context, status=status)
