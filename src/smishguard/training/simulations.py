"""SMS phishing simulations: made from a template or from a real campaign, to the enrolled members of a group;
launched (with a second admin's approval above ``[training] approval_threshold`` people), paused, resumed and
cancelled, each audited with who did it; and their results (the funnel per recipient).

The text is a template with ``{first_name}``, ``{company}`` and ``{link}`` and nothing else: another placeholder,
or any link other than ``{link}`` (found by the engine's own link finder, :mod:`smishguard.engine.sms.links`, so a
bare domain or a defanged one counts), is refused.  Each recipient gets an unguessable rid and the tracked link
:func:`smishguard.training.links.tracked_link`.  Recipients are every member of the group; those who may not be
messaged are kept as skipped with the reason (not active, not in the programme, no phone, a country outside
``allowed_countries``, replied STOP).  Sending (``simulation_sending``) happens inside the send window, in each
recipient's own time zone.
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import services as accounts
from smishguard.accounts.models import Employee, Group, RecoveryRequest
from smishguard.audit import Action, record
from smishguard.audit.recorder import cli_actor
from smishguard.engine.sms.links import extract_links
from smishguard.errors import Conflict, NotFound, PermissionDenied
from smishguard.timeofday import parse_range
from smishguard.training.errors import (
    InvalidSimulation,
    SimulationNotFound,
    SimulationNotReady,
    SimulationStateConflict,
)
from smishguard.training.links import new_rid, tracked_link
from smishguard.training.models import Recipient, Simulation, SimulationEvent, SimulationOptOut
from smishguard.training.results import STEPS
from smishguard.training.results import funnel as funnel_of
from smishguard.training.zones import zone_of

PLACEHOLDERS = ("first_name", "company", "link")
MAX_TEMPLATE_CHARS = 1000  # the text, rendered, must stay under Twilio's 1600 with a long name and link
MAX_NAME_CHARS = 200
LAUNCH_KIND = "sim_launch"  # the four-eyes request kind (accounts.approvals; at most 16 characters)
LAUNCH_LABEL = "Launch of an SMS phishing simulation"
SEND_KIND = "simulation-sms"  # the outbox kind of the texts (simulation_sending)

Status = Simulation.Status
Skipped = Recipient.Skipped


# --- the text --------------------------------------------------------------------------------------------------


def check_template(text: str) -> str:
    """The template as given, if acceptable; else InvalidSimulation saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidSimulation("the text is empty")
    text = text.strip()
    if len(text) > MAX_TEMPLATE_CHARS:
        raise InvalidSimulation(f"the text is longer than {MAX_TEMPLATE_CHARS} characters")
    if "\x00" in text:
        raise InvalidSimulation("the text contains a NUL character")
    pieces: list[str] = []
    names: list[str] = []
    try:
        for literal, name, spec, conversion in string.Formatter().parse(text):
            pieces.append(literal)
            if name is None:
                continue
            if name not in PLACEHOLDERS:
                shown = "{" + name + "}" if name else "{}"
                raise InvalidSimulation(f"unknown placeholder {shown}: only {{first_name}}, {{company}} and {{link}}")
            if spec or conversion:
                raise InvalidSimulation(f"write the placeholder as {{{name}}}, with nothing after its name")
            names.append(name)
            pieces.append(" ")
    except ValueError as exc:  # a lone { or }
        raise InvalidSimulation(f"the text has a stray brace ({exc}); write {{{{ or }}}} for a literal one") from None
    if "link" not in names:
        raise InvalidSimulation("the text has no {link}: the tracked link is what the drill measures")
    found = extract_links("".join(pieces))
    if found:
        raise InvalidSimulation(
            f"the text links to {found[0].raw!r}: a drill may contain no link but {{link}} (the tracked one)"
        )
    return text


def company() -> str:
    training = settings.SMISHGUARD.training
    return training.company or settings.SMISHGUARD.rp_name


def first_name(employee: Employee) -> str:
    parts = (employee.name or "").split()
    return parts[0] if parts else ""


def render(template: str, employee: Employee, rid: str) -> str:
    """The text one recipient gets."""
    return template.format(first_name=first_name(employee), company=company(), link=tracked_link(rid))


def from_campaign_text(campaign_id: int) -> tuple[str, str, Any]:
    """(template, brand, campaign) made from a real campaign: the wording of its most representative report (the
    most common wording among its reports, the earliest of it), every link in it replaced by {link}."""
    from smishguard.reports.models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    reports = list(campaign.reports.exclude(text="").order_by("created_at", "id").values("text", "fingerprint"))
    if not reports:
        raise InvalidSimulation(f"campaign {campaign_id} has no reported text to make a drill from")
    counts = Counter(r["fingerprint"] or r["text"] for r in reports)
    wanted = counts.most_common(1)[0][0]
    text = next(r["text"] for r in reports if (r["fingerprint"] or r["text"]) == wanted).strip()
    template = text.replace("{", "{{").replace("}", "}}")
    links = sorted(extract_links(text), key=lambda link: len(link.raw), reverse=True)
    for link in links:
        raw = link.raw.replace("{", "{{").replace("}", "}}")
        template = template.replace(raw, "{link}")
    if not links:
        template = f"{template} {{link}}"
    try:
        return check_template(template[:MAX_TEMPLATE_CHARS]), campaign.brand, campaign
    except InvalidSimulation as exc:
        raise InvalidSimulation(f"campaign {campaign_id}'s text cannot be made a drill: {exc}") from None


# --- the send window -------------------------------------------------------------------------------------------


def parse_window(value: str | None) -> tuple[time | None, time | None]:
    """``HH:MM-HH:MM`` as (start, end); (None, None) for no window.  Across midnight is allowed (21:00-07:00)."""
    if value is None or not value.strip():
        return None, None
    try:
        start, end = parse_range(value, spaces=True)  # smishguard.timeofday: spaces around the times are fine here
    except ValueError:
        raise InvalidSimulation(f"the window must be HH:MM-HH:MM (e.g. 09:00-17:00), not {value!r}") from None
    if start == end:
        raise InvalidSimulation("the window's start and end are the same time; leave --window out for any time")
    return start, end


def window_text(simulation: Simulation) -> str:
    if simulation.window_start is None or simulation.window_end is None:
        return ""
    return f"{simulation.window_start:%H:%M}-{simulation.window_end:%H:%M}"


def in_window(start: time | None, end: time | None, moment: time) -> bool:
    if start is None or end is None:
        return True
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight


def next_opening(start: time | None, end: time | None, zone: ZoneInfo, now: datetime) -> datetime:
    """``now`` when it is inside the window in ``zone``; else the window's next opening (aware, UTC)."""
    local = now.astimezone(zone)
    if start is None or in_window(start, end, local.time().replace(tzinfo=None)):
        return now
    day = local.date() if local.time().replace(tzinfo=None) < start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, start, tzinfo=zone)
    return opening.astimezone(ZoneInfo("UTC"))


# --- who is messaged -------------------------------------------------------------------------------------------


def in_programme(employee: Employee, programme_members: set[int]) -> bool:
    return employee.in_simulations or employee.pk in programme_members


def _programme_members() -> set[int]:
    name = settings.SMISHGUARD.training.programme_group
    return set(Employee.objects.filter(groups__name=name).values_list("pk", flat=True))


def country_of(phone: str) -> str | None:
    """The number's country (ISO 3166): by its number plan, else its calling code's main country (a drama or test
    number such as +44 7700 900xxx has no region of its own); None when it cannot be read."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if not region or region == "ZZ":
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region == "ZZ" else region


def skip_reason(employee: Employee, *, programme_members: set[int], opted_out: set[str]) -> str:
    """Why ``employee`` may not get a drill ("" when they may)."""
    if employee.status != Employee.Status.ACTIVE:
        return Skipped.NOT_ACTIVE
    if not in_programme(employee, programme_members):
        return Skipped.NOT_ENROLLED
    if not employee.phone:
        return Skipped.NO_PHONE
    allowed = settings.SMISHGUARD.training.allowed_countries
    if allowed and country_of(employee.phone) not in allowed:
        return Skipped.COUNTRY
    if employee.phone in opted_out:
        return Skipped.OPTED_OUT
    return Skipped.NONE


# --- create ----------------------------------------------------------------------------------------------------


def _actor_label(actor: Employee | None) -> str:
    return actor.email if actor is not None else cli_actor()


def get(simulation_id: int | str) -> Simulation:
    try:
        pk = int(simulation_id)
    except (TypeError, ValueError):
        raise SimulationNotFound(f"no simulation {simulation_id!r}") from None
    simulation = Simulation.objects.select_related("group").filter(pk=pk).first()
    if simulation is None:
        raise SimulationNotFound(f"no simulation {pk}")
    return simulation


def create(
    *,
    name: str,
    group: str,
    template: str | None = None,
    campaign_id: int | None = None,
    window: str | None = None,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Simulation:
    """Make a draft simulation (template or campaign, not both) to the members of ``group``, each a recipient
    with a rid (the skipped ones with the reason).  Audited SIMULATION_CREATED."""
    name = (name or "").strip()
    if not name:
        raise InvalidSimulation("a simulation needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidSimulation(f"the name is longer than {MAX_NAME_CHARS} characters")
    if (template is None) == (campaign_id is None):
        raise InvalidSimulation("give the text as a template or a campaign to make it from, one of the two")
    brand, campaign = "", None
    if campaign_id is not None:
        text, brand, campaign = from_campaign_text(campaign_id)
    else:
        text = check_template(template or "")
    start, end = parse_window(window)
    group_row = Group.objects.filter(name=(group or "").strip()).first()
    if group_row is None:
        raise NotFound(f"no group {group!r}")
    members = list(Employee.objects.filter(groups=group_row).order_by("pk"))
    if not members:
        raise InvalidSimulation(f"the group {group_row.name!r} has no members")
    programme = _programme_members()
    opted_out = set(SimulationOptOut.objects.values_list("phone", flat=True))
    with transaction.atomic():
        simulation = Simulation.objects.create(
            name=name,
            template=text,
            source_campaign=campaign,
            brand=brand or "",
            group=group_row,
            window_start=start,
            window_end=end,
            created_by=_actor_label(actor),
        )
        Recipient.objects.bulk_create(
            Recipient(
                simulation=simulation,
                employee=person,
                rid=new_rid(),
                department=person.department,
                skipped=skip_reason(person, programme_members=programme, opted_out=opted_out),
            )
            for person in members
        )
        counts = simulation_counts(simulation)
        record(
            Action.SIMULATION_CREATED,
            request=request,
            actor=actor,
            subject_label=f"simulation {simulation.pk}",
            simulation_id=simulation.pk,
            name=name,
            group=group_row.name,
            campaign_id=campaign_id,
            window=window_text(simulation),
            recipients=counts["recipients"],
            skipped=counts["skipped"],
        )
    return simulation


def simulation_counts(simulation: Simulation) -> dict[str, int]:
    rows = Recipient.objects.filter(simulation=simulation)
    total = rows.count()
    skipped = rows.exclude(skipped="").count()
    return {"recipients": total - skipped, "skipped": skipped}


# --- launch, pause, resume, cancel -----------------------------------------------------------------------------


def check_ready() -> str:
    """The simulation sender, when a launch may go ahead; else SimulationNotReady saying why not."""
    training = settings.SMISHGUARD.training
    twilio = settings.SMISHGUARD.twilio
    sender = training.simulation_sender
    if not sender:
        raise SimulationNotReady(
            "no simulation sender: set [training] simulation_sender to a number of its own (not the reporting number)"
        )
    if sender in twilio.from_numbers:
        raise SimulationNotReady(
            f"[training] simulation_sender {sender} is a reporting number (SMISHGUARD_TWILIO_FROM): a STOP to a drill "
            "would stop real warnings; give drills a number of their own"
        )
    if not (twilio.account_sid and twilio.auth_token):
        raise SimulationNotReady(
            "Twilio is not configured: set SMISHGUARD_TWILIO_ACCOUNT_SID and SMISHGUARD_TWILIO_AUTH_TOKEN"
        )
    return sender


def _refresh_recipients(simulation: Simulation) -> int:
    """At launch: each recipient's skip reason as it is now (someone may have replied STOP since); the count of
    those who will get the text."""
    programme = _programme_members()
    opted_out = set(SimulationOptOut.objects.values_list("phone", flat=True))
    eligible = 0
    for recipient in Recipient.objects.select_related("employee").filter(
        simulation=simulation, queued_at__isnull=True, sent_at__isnull=True
    ):
        if recipient.skipped in (Skipped.CANCELLED, Skipped.SEND_FAILED):
            continue
        reason = skip_reason(recipient.employee, programme_members=programme, opted_out=opted_out)
        if reason != recipient.skipped:
            Recipient.objects.filter(pk=recipient.pk).update(skipped=reason)
        eligible += reason == Skipped.NONE
    return eligible


def _schedule(simulation: Simulation, now: datetime) -> None:
    """Each unsent recipient's send_after: the window's next opening in their own time zone."""
    for recipient in Recipient.objects.select_related("employee").filter(
        simulation=simulation, skipped="", queued_at__isnull=True
    ):
        at = next_opening(simulation.window_start, simulation.window_end, zone_of(recipient.employee), now)
        Recipient.objects.filter(pk=recipient.pk).update(send_after=at)


def _locked(simulation_id: int) -> Simulation:
    simulation = Simulation.objects.select_for_update().filter(pk=simulation_id).first()
    if simulation is None:
        raise SimulationNotFound(f"no simulation {simulation_id}")
    return simulation


@dataclass(frozen=True)
class LaunchOutcome:
    simulation: Simulation
    launched: bool  # False: waiting for a second admin's approval (request_id says which request)
    recipients: int
    request_id: int | None = None

    def message(self) -> str:
        if self.launched:
            return f"simulation {self.simulation.pk} launched to {self.recipients} recipient(s)"
        return (
            f"simulation {self.simulation.pk} goes to {self.recipients} people, more than "
            f"{settings.SMISHGUARD.training.approval_threshold}: a second admin approves the launch with "
            f"`smishguard employees approve {self.request_id} --as ADMIN_EMAIL` (or Four-eyes requests in the console)"
        )


def launch(simulation_id: int, *, actor: Employee | None = None, request: HttpRequest | None = None) -> LaunchOutcome:
    """Launch a draft: at once up to the approval threshold; above it a four-eyes request is opened (the actor must
    be an admin) and the launch happens when a second admin approves it."""
    check_ready()
    with transaction.atomic():
        simulation = _locked(simulation_id)
        if simulation.status != Status.DRAFT:
            raise SimulationStateConflict(f"simulation {simulation.pk} is {simulation.status}, not a draft")
        eligible = _refresh_recipients(simulation)
        if eligible == 0:
            raise InvalidSimulation(f"simulation {simulation.pk} has no one to send to (every member is skipped)")
        threshold = settings.SMISHGUARD.training.approval_threshold
        if eligible > threshold:
            if actor is None:
                raise PermissionDenied(
                    f"a launch to {eligible} people (more than {threshold}) needs a second admin's approval: "
                    "ask for it as an admin (--as ADMIN_EMAIL)"
                )
            rec = accounts.open_request(
                actor,
                LAUNCH_KIND,
                Action.SIMULATION_LAUNCH_REQUESTED,
                actor=actor,
                request=request,
                reason=f"launch simulation {simulation.pk} ({simulation.name}) to {eligible} people"[:500],
            )
            Simulation.objects.filter(pk=simulation.pk).update(
                status=Status.AWAITING_APPROVAL,
                launch_request=rec,
                status_changed_at=timezone.now(),
                status_changed_by=actor.email,
            )
            simulation.refresh_from_db()
            return LaunchOutcome(simulation, launched=False, recipients=eligible, request_id=rec.pk)
        _start(simulation, launched_by=_actor_label(actor), approved_by="", request=request, actor=actor)
        simulation.refresh_from_db()
    return LaunchOutcome(simulation, launched=True, recipients=eligible)


def _start(
    simulation: Simulation,
    *,
    launched_by: str,
    approved_by: str,
    request: HttpRequest | None,
    actor: Employee | None,
) -> None:
    now = timezone.now()
    recipients = Recipient.objects.filter(simulation=simulation, skipped="").count()
    _schedule(simulation, now)
    Simulation.objects.filter(pk=simulation.pk).update(
        status=Status.RUNNING,
        launched_at=now,
        launched_by=launched_by[:254],
        approved_by=approved_by[:254],
        status_changed_at=now,
        status_changed_by=(approved_by or launched_by)[:254],
    )
    record(
        Action.SIMULATION_LAUNCHED,
        request=request,
        actor=actor,
        actor_label=None if actor is not None or request is not None else launched_by,
        subject_label=f"simulation {simulation.pk}",
        simulation_id=simulation.pk,
        name=simulation.name,
        recipients=recipients,
        launched_by=launched_by,
        approved_by=approved_by or None,
        window=window_text(simulation),
        sender=settings.SMISHGUARD.training.simulation_sender,
    )


def _approve_launch(rec: RecoveryRequest, approver: Employee, request: HttpRequest | None) -> str:
    """A second admin approved a launch (accounts.services.approve, in its transaction): launch it."""
    simulation = Simulation.objects.select_for_update().filter(launch_request_id=rec.pk).first()
    if simulation is None:
        raise Conflict(f"request {rec.pk} launches no simulation")
    if simulation.status != Status.AWAITING_APPROVAL:
        raise Conflict(f"simulation {simulation.pk} is {simulation.status}: nothing to launch")
    check_ready()
    _start(simulation, launched_by=rec.requested_by_label, approved_by=approver.email, request=request, actor=approver)
    count = Recipient.objects.filter(simulation=simulation, skipped="").count()
    return f"simulation {simulation.pk} ({simulation.name}) is launched to {count} recipient(s)"


def _delete_pending_sends(simulation: Simulation) -> int:
    """Take back the sends recorded but not yet claimed (no call was made for them); their recipients wait again.
    A send already claimed goes out (it may be in the call)."""
    from smishguard.outbox.models import Delivery

    ids = list(Recipient.objects.filter(simulation=simulation).values_list("pk", flat=True))
    pending = Delivery.objects.filter(kind=SEND_KIND, target_id__in=ids, status=Delivery.Status.PENDING)
    taken = list(pending.values_list("target_id", flat=True))
    deleted, _ = pending.delete()
    Recipient.objects.filter(pk__in=taken, sent_at__isnull=True).update(queued_at=None, delivery_key="")
    return deleted


def _change(
    simulation_id: int,
    *,
    allowed: tuple[str, ...],
    to: str,
    action: Action,
    actor: Employee | None,
    request: HttpRequest | None,
) -> Simulation:
    label = _actor_label(actor)
    with transaction.atomic():
        simulation = _locked(simulation_id)
        if simulation.status not in allowed:
            verb = {Status.PAUSED: "paused", Status.RUNNING: "resumed", Status.CANCELLED: "cancelled"}[to]
            raise SimulationStateConflict(f"simulation {simulation.pk} is {simulation.status}: it cannot be {verb}")
        before = simulation.status
        detail: dict[str, Any] = {}
        if to in (Status.PAUSED, Status.CANCELLED):
            detail["taken_back"] = _delete_pending_sends(simulation)
        waiting = RecoveryRequest.objects.filter(pk=simulation.launch_request_id, status=RecoveryRequest.Status.PENDING)
        if to == Status.CANCELLED and simulation.launch_request_id is not None and waiting.exists():
            # The launch's four-eyes request is answered: refused, by whoever cancelled (nothing left to approve).
            accounts.refuse_recovery(simulation.launch_request_id, approver=actor, request=request)
        if to == Status.CANCELLED:
            detail["unsent"] = Recipient.objects.filter(
                simulation=simulation, skipped="", queued_at__isnull=True
            ).update(skipped=Skipped.CANCELLED)
        if to == Status.RUNNING:
            _schedule(simulation, timezone.now())
        Simulation.objects.filter(pk=simulation.pk).update(
            status=to, status_changed_at=timezone.now(), status_changed_by=label[:254]
        )
        record(
            action,
            request=request,
            actor=actor,
            subject_label=f"simulation {simulation.pk}",
            simulation_id=simulation.pk,
            name=simulation.name,
            before=before,
            **detail,
        )
        simulation.refresh_from_db()
    if to == Status.RUNNING and finish_if_done(simulation.pk):  # resumed with nothing left to send
        simulation.refresh_from_db()
    return simulation


def pause(simulation_id: int, *, actor: Employee | None = None, request: HttpRequest | None = None) -> Simulation:
    """Stop further sends (a text already in the call goes out)."""
    return _change(
        simulation_id, allowed=(Status.RUNNING,), to=Status.PAUSED, action=Action.SIMULATION_PAUSED,
        actor=actor, request=request,
    )  # fmt: skip


def resume(simulation_id: int, *, actor: Employee | None = None, request: HttpRequest | None = None) -> Simulation:
    """Send the rest again, each inside the window."""
    return _change(
        simulation_id, allowed=(Status.PAUSED,), to=Status.RUNNING, action=Action.SIMULATION_RESUMED,
        actor=actor, request=request,
    )  # fmt: skip


def cancel(simulation_id: int, *, actor: Employee | None = None, request: HttpRequest | None = None) -> Simulation:
    """End it: the unsent recipients are skipped ("cancelled")."""
    return _change(
        simulation_id,
        allowed=(Status.DRAFT, Status.AWAITING_APPROVAL, Status.RUNNING, Status.PAUSED),
        to=Status.CANCELLED,
        action=Action.SIMULATION_CANCELLED,
        actor=actor,
        request=request,
    )


def finish_if_done(simulation_id: int) -> bool:
    """A running simulation whose every recipient was sent to (or skipped) is finished."""
    left = Recipient.objects.filter(simulation_id=simulation_id, skipped="", sent_at__isnull=True).exists()
    if left:
        return False
    return bool(
        Simulation.objects.filter(pk=simulation_id, status=Status.RUNNING).update(
            status=Status.FINISHED, status_changed_at=timezone.now(), status_changed_by="system"
        )
    )


# --- results ---------------------------------------------------------------------------------------------------

EVENT_FIELDS = STEPS


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z") if value is not None else None


def recipient_rows(simulation: Simulation) -> list[dict[str, Any]]:
    """One row per recipient who was or will be messaged (skipped ones left out): email and each event's time."""
    rows = []
    for r in (
        Recipient.objects.filter(simulation=simulation)
        .filter(Q(skipped="") | Q(sent_at__isnull=False))
        .select_related("employee")
        .order_by("employee__email", "pk")
    ):
        row: dict[str, Any] = {"email": r.employee.email}
        for name in EVENT_FIELDS:
            row[name] = _iso(getattr(r, f"{name}_at"))
        rows.append(row)
    return rows


def funnel(simulation: Simulation) -> dict[str, Any]:
    """Counts of sent, delivered, clicked, submitted and reported, those skipped, and the time to the first report
    (seconds from that recipient's send; None when no one reported): ``results.funnel`` as a dict."""
    return funnel_of(simulation).as_dict()


def results(simulation: Simulation) -> dict[str, Any]:
    return {
        "id": simulation.pk,
        "name": simulation.name,
        "status": simulation.status,
        "recipients": recipient_rows(simulation),
        "funnel": funnel(simulation),
    }


def summary(simulation: Simulation) -> dict[str, Any]:
    """One simulation for lists (the CLI's ``list --json``, the console's list)."""
    counts = funnel(simulation)
    return {
        "id": simulation.pk,
        "name": simulation.name,
        "status": simulation.status,
        "group": simulation.group.name,
        "brand": simulation.brand or None,
        "campaign_id": simulation.source_campaign_id,
        "window": window_text(simulation) or None,
        "created_at": _iso(simulation.created_at),
        "created_by": simulation.created_by,
        "launched_at": _iso(simulation.launched_at),
        "recipients": counts["recipients"],
        "skipped": counts["skipped"],
        "sent": counts["sent"],
        "clicked": counts["clicked"],
        "reported": counts["reported"],
    }


def links(simulation: Simulation, *, actor: Employee | None = None, request: HttpRequest | None = None) -> list[dict]:
    """Each recipient's email and tracked link (for a pilot); audited SIMULATION_LINKS_EXPORTED."""
    rows = [
        {"email": r.employee.email, "link": tracked_link(r.rid)}
        for r in Recipient.objects.filter(simulation=simulation, skipped="")
        .select_related("employee")
        .order_by("employee__email")
    ]
    record(
        Action.SIMULATION_LINKS_EXPORTED,
        request=request,
        actor=actor,
        subject_label=f"simulation {simulation.pk}",
        simulation_id=simulation.pk,
        links=len(rows),
    )
    return rows


def add_event(recipient_id: int, kind: str, *, via: str, at: datetime | None = None) -> bool:
    """Record ``kind`` for a recipient once (the first time counts): the event row and the recipient's time."""
    at = at or timezone.now()
    field = f"{kind}_at"
    changed = Recipient.objects.filter(pk=recipient_id, **{f"{field}__isnull": True}).update(**{field: at})
    if changed:
        SimulationEvent.objects.create(recipient_id=recipient_id, kind=kind, at=at, via=via)
    return bool(changed)


def register() -> None:
    """The launch's four-eyes kind (simulation_hooks.register)."""
    from smishguard.accounts import approvals

    approvals.register_kind(
        LAUNCH_KIND,
        label=LAUNCH_LABEL,
        approve=_approve_launch,
        button="Approve the launch",
        about_requester=True,
    )
