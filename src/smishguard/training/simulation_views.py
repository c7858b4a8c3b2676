"""The console's Simulations pages (/console/simulations/): the list, a new simulation (from a template, or from a
real campaign picked here: the reports app's campaign page cannot link to training, which is above it), a
simulation's funnel and recipients, and its launch / pause / resume / cancel buttons (POST, CSRF).  Admins only;
every change goes through :mod:`smishguard.training.simulations`, which audits it with who did it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts.models import Group
from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only
from smishguard.errors import SmishguardError
from smishguard.training import simulations
from smishguard.training.charts import short_duration
from smishguard.training.errors import InvalidSimulation
from smishguard.training.models import Recipient, Simulation
from smishguard.training.results import by_department

NAV = "simulations"
CAMPAIGN_CHOICES = 50  # the most recent campaigns with a reported text offered in the picker
PAGE_RECIPIENTS = 500


@require_GET
@admin_only
def simulation_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {**simulations.summary(s), "created": s.created_at}
        for s in Simulation.objects.select_related("group").order_by("-created_at", "-id")
    ]
    return render(request, "training/simulation_list.html", {"nav": NAV, "rows": rows})


def _campaigns(picked: str = "") -> list[Any]:
    """The latest campaigns to pick from, and the one picked (from its page's button) even when it is older."""
    from smishguard.reports.models import Campaign

    rows = list(Campaign.objects.filter(report_count__gt=0).order_by("-last_seen", "-id")[:CAMPAIGN_CHOICES])
    if picked.isdigit() and all(str(row.pk) != picked for row in rows):
        rows = [*Campaign.objects.filter(pk=int(picked)), *rows]
    return rows


def _form_context(values: dict[str, str], **extra: object) -> dict[str, object]:
    return {
        "nav": NAV,
        "values": values,
        "groups": list(Group.objects.order_by("name").values_list("name", flat=True)),
        "campaigns": _campaigns(values.get("campaign", "")),
        "programme_group": settings.SMISHGUARD.training.programme_group,
        **extra,
    }


def _new_values(params) -> dict[str, str]:
    """The new-simulation form's first values: from a campaign (its page's "Make a drill of it" button gives
    ``?campaign=ID``), the campaign picked, a name after it and the programme's group, so one click saves it."""
    values = {"source": "template", "campaign": "", "name": "", "group": ""}
    campaign_id = params.get("campaign", "")
    if not campaign_id.isdigit():
        return values
    from smishguard.reports.models import Campaign

    campaign = Campaign.objects.filter(pk=int(campaign_id)).first()
    if campaign is None:
        return values
    programme = settings.SMISHGUARD.training.programme_group
    return {
        "source": "campaign",
        "campaign": str(campaign.pk),
        "name": f"Drill: {campaign.brand or campaign.title} (campaign #{campaign.pk})"[:200],
        "group": programme if Group.objects.filter(name=programme).exists() else "",
    }


@require_http_methods(["GET", "POST"])
@admin_only
def simulation_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "training/simulation_form.html", _form_context(_new_values(request.GET)))
    fields = ("name", "group", "window", "source", "template", "campaign")
    values = {k: request.POST.get(k, "").strip() for k in fields}
    try:
        campaign_id = None
        template = None
        if values["source"] == "campaign":
            if not values["campaign"].isdigit():
                raise InvalidSimulation("pick the campaign to make the drill from")
            campaign_id = int(values["campaign"])
        else:
            template = request.POST.get("template", "")
        simulation = simulations.create(
            name=values["name"],
            group=values["group"],
            template=template,
            campaign_id=campaign_id,
            window=values["window"] or None,
            actor=request.user,
            request=request,
        )
    except SmishguardError as exc:
        return render(request, "training/simulation_form.html", _form_context(values, error=exc.message), status=400)
    counts = simulations.simulation_counts(simulation)
    messages.success(
        request,
        f"Draft saved: {counts['recipients']} recipient(s), {counts['skipped']} skipped. Check the text, then launch.",
    )
    return redirect("simulations:detail", pk=simulation.pk)


@require_GET
@admin_only
def simulation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    simulation = simulations.get(pk)
    funnel = simulations.funnel(simulation)
    total = funnel["recipients"] or 1
    steps = [
        {"name": name, "count": funnel[name], "percent": round(100 * funnel[name] / total)}
        for name in simulations.EVENT_FIELDS
    ]
    rows = Recipient.objects.filter(simulation=simulation).select_related("employee")
    recipients = list(rows.order_by("skipped", "employee__email")[:PAGE_RECIPIENTS])
    preview = None
    first = next((r for r in recipients if not r.skipped), None)
    if first is not None:
        preview = simulations.render(simulation.template, first.employee, "RID")
    context = {
        "nav": NAV,
        "simulation": simulation,
        "funnel": funnel,
        "first_report": short_duration(funnel["time_to_first_report_seconds"]),
        "steps": steps,
        "departments": [
            {
                "name": part.department,
                "funnel": part.funnel,
                "first_report": short_duration(part.funnel.time_to_first_report_seconds),
            }
            for part in by_department(simulation)
        ],
        "recipients": recipients,
        "more_recipients": Recipient.objects.filter(simulation=simulation).count() > PAGE_RECIPIENTS,
        "window": simulations.window_text(simulation),
        "preview": preview,
        "sender": settings.SMISHGUARD.training.simulation_sender,
        "threshold": settings.SMISHGUARD.training.approval_threshold,
        "can": {
            "launch": simulation.status == Simulation.Status.DRAFT,
            "pause": simulation.status == Simulation.Status.RUNNING,
            "resume": simulation.status == Simulation.Status.PAUSED,
            "cancel": simulation.status
            in (
                Simulation.Status.DRAFT,
                Simulation.Status.AWAITING_APPROVAL,
                Simulation.Status.RUNNING,
                Simulation.Status.PAUSED,
            ),
        },
    }
    return render(request, "training/simulation_detail.html", context)


@require_POST
@admin_only
@flash_errors("simulations:detail", "pk")
def simulation_launch(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = simulations.launch(simulations.get(pk).pk, actor=request.user, request=request)
    if outcome.launched:
        messages.success(request, f"Launched to {outcome.recipients} recipient(s).")
    else:
        messages.info(
            request,
            f"This drill goes to {outcome.recipients} people: request #{outcome.request_id} awaits a second admin's "
            "approval under Four-eyes requests.",
        )
    return redirect("simulations:detail", pk=pk)


def _changer(name: str, done: str):
    @require_POST
    @admin_only
    @flash_errors("simulations:detail", "pk")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        getattr(simulations, name)(simulations.get(pk).pk, actor=request.user, request=request)
        messages.success(request, done)
        return redirect("simulations:detail", pk=pk)

    view.__name__ = f"simulation_{name}"
    return view


simulation_pause = _changer("pause", "Paused: no further texts are sent until you resume.")
simulation_resume = _changer("resume", "Resumed: the rest are sent inside the window.")
simulation_cancel = _changer("cancel", "Cancelled: the recipients not yet sent to are skipped.")
