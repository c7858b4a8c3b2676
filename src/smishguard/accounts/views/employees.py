"""Console: the employee directory and one employee's page."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts import notices, services, sessions
from smishguard.accounts.models import Employee, RecoveryRequest, Session
from smishguard.accounts.page_actions import act, plural
from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only
from smishguard.accounts.panels import employee_panels
from smishguard.audit.models import Event
from smishguard.errors import SmishguardError

PAGE_SIZE = 50
IMPORT_SALT = "smishguard.web.import-result"  # the name of the page's first home, kept: a result link stays valid
IMPORT_RESULT_MAX_AGE = 3600
# How many names and bad rows the result page lists (the counts are always complete).
IMPORT_LIST_LIMIT = 100
# The directory's "keys" filter counts usable keys (neither revoked nor flagged), as the coverage page does.
KEY_FILTERS = {"none": {"key_count": 0}, "one": {"key_count": 1}, "two": {"key_count__gte": 2}}
KEY_FILTER_LABELS = [("none", "No usable key"), ("one", "Only one key"), ("two", "Two or more keys")]


def _departments() -> list[str]:
    return list(
        Employee.objects.exclude(department="").values_list("department", flat=True).distinct().order_by("department")
    )


@require_GET
@admin_only
def directory(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    department = request.GET.get("department", "")
    people = Employee.objects.all()
    if q:
        people = people.filter(Q(name__icontains=q) | Q(email__icontains=q))
    if status in Employee.Status.values:
        people = people.filter(status=status)
    else:
        status = ""
    if department:
        people = people.filter(department=department)
    people = (
        people.annotate(
            key_count=Count(
                "credentials", filter=Q(credentials__revoked_at__isnull=True, credentials__flagged_at__isnull=True)
            ),
            last_key_use=Max("credentials__last_used_at"),
        )
        .prefetch_related("groups")
        .order_by("name", "email")
    )
    keys = request.GET.get("keys", "")
    if keys in KEY_FILTERS:
        people = people.filter(**KEY_FILTERS[keys])
    else:
        keys = ""
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "accounts/console/employees.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "department": department,
            "keys": keys,
            "key_filters": KEY_FILTER_LABELS,
            "departments": _departments(),
            "statuses": Employee.Status.choices,
            "filter_query": filters.urlencode(),
            "total": Employee.objects.count(),
            "nav": "employees",
        },
    )


def _employee_form_context(values: dict[str, str], **extra: object) -> dict[str, object]:
    extra.setdefault("simulations_checked", values.get("in_simulations") == "on")
    return {
        "values": values,
        "departments": _departments(),
        "time_zones": sorted(services.time_zone_names()),
        "nav": "employees",
        **extra,
    }


def _posted_details(request: HttpRequest) -> dict[str, str]:
    fields = ("email", "name", "phone", "department", "groups", "time_zone", "in_simulations")
    return {k: request.POST.get(k, "").strip() for k in fields}


def _groups(text: str) -> list[str]:
    return services.split_groups(text)


@require_http_methods(["GET", "POST"])
@admin_only
def add(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/console/employee_form.html", _employee_form_context({}, mode="add"))
    values = _posted_details(request)
    wants_admin = request.POST.get("is_admin") == "on"
    if wants_admin:
        sessions.require_fresh_assertion(request, what="granting admin rights")
    try:
        employee = services.add_employee(
            email=values["email"],
            name=values["name"],
            phone=values["phone"],
            department=values["department"],
            groups=_groups(values["groups"]),
            is_admin=wants_admin,
            time_zone=values["time_zone"],
            in_simulations=values["in_simulations"] == "on",
            actor=request.user,
            request=request,
        )
    except SmishguardError as exc:
        context = _employee_form_context(values, mode="add", error=exc.message, admin_checked=wants_admin)
        return render(request, "accounts/console/employee_form.html", context, status=400)
    messages.success(request, f"Added {employee.name}. Issue an enrolment link so they can register a key.")
    _say_if_admin_pending(request, employee)
    return redirect("accounts:console-employee", pk=employee.pk)


def _say_if_admin_pending(request: HttpRequest, employee: Employee) -> None:
    pending = employee.recovery_requests.filter(
        kind=RecoveryRequest.Kind.ADMIN_GRANT, status=RecoveryRequest.Status.PENDING
    ).first()
    if pending is not None:
        messages.info(
            request,
            f"Admin rights for {employee.name} are not given yet: request #{pending.pk} awaits a second admin's "
            "approval under Four-eyes requests.",
        )


@require_http_methods(["GET", "POST"])
@admin_only
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    if request.method == "GET":
        values = {
            "email": employee.email,
            "name": employee.name,
            "phone": employee.phone,
            "department": employee.department,
            "groups": ", ".join(employee.groups.values_list("name", flat=True)),
            "time_zone": employee.time_zone,
            "in_simulations": "on" if employee.in_simulations else "",
        }
        context = _employee_form_context(values, mode="edit", employee=employee, admin_checked=employee.is_admin)
        return render(request, "accounts/console/employee_form.html", context)
    values = _posted_details(request)
    values["email"] = employee.email
    is_admin = request.POST.get("is_admin") == "on"
    if is_admin and not employee.is_admin:
        sessions.require_fresh_assertion(request, what="granting admin rights")
    if employee.pk == request.user.pk and not is_admin:
        context = _employee_form_context(
            values, mode="edit", employee=employee, admin_checked=True, error="You cannot remove your own admin rights."
        )
        return render(request, "accounts/console/employee_form.html", context, status=400)
    try:
        services.update_employee(
            employee,
            name=values["name"],
            phone=values["phone"],
            department=values["department"],
            groups=_groups(values["groups"]),
            is_admin=is_admin,
            time_zone=values["time_zone"],
            in_simulations=values["in_simulations"] == "on",
            actor=request.user,
            request=request,
        )
    except SmishguardError as exc:
        context = _employee_form_context(
            values, mode="edit", employee=employee, admin_checked=is_admin, error=exc.message
        )
        return render(request, "accounts/console/employee_form.html", context, status=400)
    messages.success(request, f"Saved {employee.name}'s details.")
    _say_if_admin_pending(request, employee)
    return redirect("accounts:console-employee", pk=employee.pk)


@require_http_methods(["GET", "POST"])
@admin_only
@flash_errors("accounts:console-import")
def import_csv(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/console/import.html", {"nav": "employees", "columns": services.CSV_COLUMNS})
    upload = request.FILES.get("file")
    data: bytes | str = upload.read() if upload is not None else request.POST.get("text", "")
    if not data.strip():
        messages.error(request, "Choose a CSV file (or paste CSV text) to import.")
        return redirect("accounts:console-import")
    if services.csv_asks_for_admin(data):
        sessions.require_fresh_assertion(request, what="granting admin rights by import")
    result = services.import_csv(data, actor=request.user, request=request)
    summary = {
        "created_n": len(result.created),
        "updated_n": len(result.updated),
        "errors_n": len(result.errors),
        "created": list(result.created[:IMPORT_LIST_LIMIT]),
        "updated": list(result.updated[:IMPORT_LIST_LIMIT]),
        "errors": [[e.line, e.message] for e in result.errors[:IMPORT_LIST_LIMIT]],
        "admin_requested": list(result.admin_requested[:IMPORT_LIST_LIMIT]),
        "file": upload.name[:200] if upload is not None else "pasted text",
    }
    token = signing.dumps(summary, salt=IMPORT_SALT, compress=True)
    return redirect(f"{reverse('accounts:console-import-result')}?r={token}")


@require_GET
@admin_only
def import_result(request: HttpRequest) -> HttpResponse:
    try:
        summary = signing.loads(request.GET.get("r", ""), salt=IMPORT_SALT, max_age=IMPORT_RESULT_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "That import result is no longer available; the import itself is in the audit trail.")
        return redirect("accounts:console-import")
    return render(
        request,
        "accounts/console/import_result.html",
        {"r": summary, "list_limit": IMPORT_LIST_LIMIT, "nav": "employees"},
    )


@require_GET
@admin_only
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee.objects.prefetch_related("groups"), pk=pk)
    live = sessions.live().filter(employee=employee).select_related("credential").order_by("-last_seen_at")
    events = Event.objects.filter(Q(subject=employee) | Q(actor=employee))[:25]
    open_links = [
        link
        for link in employee.enrolment_links.filter(used_at__isnull=True, revoked_at__isnull=True)
        if link.is_usable
    ]
    pending_requests = employee.recovery_requests.filter(status=RecoveryRequest.Status.PENDING)
    pending = pending_requests.exclude(kind=RecoveryRequest.Kind.ADMIN_GRANT).first()
    pending_grant = pending_requests.filter(kind=RecoveryRequest.Kind.ADMIN_GRANT).first()
    context: dict[str, object] = {}
    # Panels of the apps above accounts (passkeys: the keys), registered in their AppConfig.ready() (accounts.panels).
    shown = employee_panels()
    for panel in shown:
        context.update(panel.context(request, employee))
    return render(
        request,
        "accounts/console/employee.html",
        {
            **context,
            "panels": [panel.template for panel in shown],
            "employee": employee,
            "sessions": live,
            "events": events,
            "open_links": open_links,
            "pending_recovery": pending,
            "pending_grant": pending_grant,
            "is_self": employee.pk == request.user.pk,
            "nav": "employees",
        },
    )


def _back(request: HttpRequest, employee: Employee) -> str:
    """Return to the list if the button was pressed there, else to the employee's page."""
    if request.POST.get("from") == "list":
        return reverse("accounts:console-employees")
    return reverse("accounts:console-employee", args=[employee.pk])


def _refuse_self(request: HttpRequest, employee: Employee, what: str) -> HttpResponse | None:
    if employee.pk == request.user.pk:
        messages.error(request, f"You cannot {what} yourself; ask another admin.")
        return redirect(_back(request, employee))
    return None


@require_POST
@admin_only
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    if refused := _refuse_self(request, employee, "suspend"):
        return refused
    return act(
        request,
        lambda: services.suspend(employee, actor=request.user, request=request),
        success=lambda n: f"Suspended {employee.name}; {plural(n, 'session')} revoked. They cannot sign in.",
        back=_back(request, employee),
    )


@require_POST
@admin_only
def reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    return act(
        request,
        lambda: services.reactivate(employee, actor=request.user, request=request),
        success=f"Reactivated {employee.name}. They can sign in with their keys again.",
        back=_back(request, employee),
    )


@require_http_methods(["GET", "POST"])
@admin_only
def offboard(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    if refused := _refuse_self(request, employee, "offboard"):
        return refused
    if employee.status == Employee.Status.OFFBOARDED:
        messages.info(request, f"{employee.name} is already offboarded.")
        return redirect("accounts:console-employee", pk=employee.pk)
    if request.method == "GET":
        return render(
            request,
            "accounts/console/offboard_confirm.html",
            {
                "employee": employee,
                "session_count": sessions.live().filter(employee=employee).count(),
                "key_count": employee.credentials.filter(revoked_at__isnull=True).count(),
                "link_count": employee.enrolment_links.filter(used_at__isnull=True, revoked_at__isnull=True).count(),
                "nav": "employees",
            },
        )
    if request.POST.get("confirm") != employee.email:
        messages.error(request, "Type the employee's email address to confirm offboarding.")
        return redirect("accounts:console-offboard", pk=employee.pk)
    return act(
        request,
        lambda: services.offboard(employee, actor=request.user, request=request),
        success=lambda c: (
            f"Offboarded {employee.name}: {plural(c['sessions_revoked'], 'session')} and "
            f"{plural(c['keys_revoked'], 'key')} revoked, {plural(c['links_cancelled'], 'enrolment link')} cancelled."
        ),
        back=reverse("accounts:console-employee", args=[employee.pk]),
    )


@require_POST
@admin_only
@flash_errors("accounts:console-employee", "pk")
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    back = reverse("accounts:console-employee", args=[employee.pk])
    issued = services.invite(
        employee, actor=request.user, request=request, reason=request.POST.get("reason", "").strip()
    )
    if isinstance(issued, services.IssuedLink):
        # Shown once, on the next page, from server-side state (accounts.notices), never from a cookie.
        notices.hold(request, issued.url, issued.expires)
    elif issued.kind == RecoveryRequest.Kind.ADMIN_ENROLMENT:
        messages.info(
            request,
            f"{employee.name} is an admin, so their first enrolment link needs four eyes: request #{issued.pk} now "
            "waits for a second admin's approval under Four-eyes requests. The link is issued on approval.",
        )
    else:
        messages.info(
            request,
            f"{employee.name} has lost every key, so this is a recovery: request #{issued.pk} now waits for a "
            "second admin's approval under Recovery requests. The link is issued on approval.",
        )
    return redirect(back)


@require_POST
@admin_only
def revoke_sessions(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    count = sessions.revoke(Session.objects.filter(employee=employee), reason="revoked by admin", request=request)
    if count:
        messages.success(request, f"Revoked {plural(count, 'session')} of {employee.name}. They must sign in again.")
    else:
        messages.info(request, f"{employee.name} has no live sessions.")
    return redirect(_back(request, employee))
