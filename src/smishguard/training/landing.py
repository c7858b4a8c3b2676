"""The tracked link of a simulation (``/s/<rid>``): who counts as a click, what a click and a submit record, the
lesson they lead to, and a drill reported back to the security team.

* A **click** is a GET from a real browser.  Link-preview fetchers (messaging apps that fetch a link to draw a
  preview: WhatsApp and Signal, iMessage, Slack, Telegram, Discord, Teams/Skype, LinkedIn, Google's fetchers) and
  anything ua-parser calls a "Spider" are not, nor is a HEAD request or a request with no user agent.
* A **submit** is a POST to the link.  Nothing in it is read: the view never touches the request's body, so what
  someone typed is never parsed, logged or kept.  It records the event, asks the gateway for a fresh key touch on
  the employee's next protected request (``accounts.sessions.require_key_touch``) and is audited without a body.
* Each click and submit is a ``SimulationEvent``; the recipient's ``clicked_at`` / ``submitted_at`` keep the first
  time.  Both assign the ``[training] lesson_module`` (due in ``lesson_due_days``).
* A **report** (the drill forwarded to the reporting number, or REPORT texted back to the simulation sender) is a
  ``reported`` event; time to report = ``reported_at - sent_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.audit import Action, record
from smishguard.training import compliance, simulations
from smishguard.training.links import link_host
from smishguard.training.models import Assignment, Module, Recipient, SimulationEvent, SimulationOptOut

Kind = SimulationEvent.Kind

# The preview agents of the messaging apps, by a word of their user agent (ua-parser calls most of them "Spider",
# but not iMessage's, which poses as Safari with "facebookexternalhit/1.1 Facebot Twitterbot/1.0" after it, nor
# Teams/Skype's "SkypeUriPreview").  Signal fetches previews as "WhatsApp".
PREVIEW_AGENTS = re.compile(
    r"WhatsApp|facebookexternalhit|Facebot|Twitterbot|Slackbot|Slack-ImgProxy|TelegramBot|Discordbot"
    r"|SkypeUriPreview|MicrosoftPreview|LinkedInBot|Signal|Googlebot|Google-PageRenderer|Google-InspectionTool"
    r"|GoogleOther|Google-Read-Aloud|AdsBot-Google|Viber|redditbot|Embedly|Iframely|Pinterest|vkShare|Mastodon",
    re.IGNORECASE,
)
MAX_USER_AGENT = 1000  # longer ones are not parsed (ua-parser's regexes on a megabyte of header: no)

# Words that press someone to act before they think (shown on the lesson when the drill's text has them).
URGENCY_WORDS = (
    "urgent",
    "urgently",
    "immediately",
    "now",
    "today",
    "tonight",
    "asap",
    "expires",
    "expire",
    "expired",
    "expiring",
    "suspended",
    "locked",
    "disabled",
    "final",
    "last chance",
    "within 24 hours",
    "24 hours",
    "deadline",
    "right away",
    "act fast",
    "overdue",
)
_URGENCY = re.compile(r"\b(" + "|".join(re.escape(w) for w in URGENCY_WORDS) + r")\b", re.IGNORECASE)


def is_preview_fetcher(user_agent: str) -> bool:
    """Whether a GET with this User-Agent is a link-preview fetcher or a bot rather than a person's browser."""
    agent = (user_agent or "").strip()
    if not agent or len(agent) > MAX_USER_AGENT:
        return True
    if PREVIEW_AGENTS.search(agent):
        return True
    from ua_parser import parse_device  # the parser's tables load on first use (about 0.1 s), not at start-up

    device = parse_device(agent)
    return device is not None and device.family == "Spider"


_RID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def find(rid: str) -> Recipient | None:
    """The recipient of a tracked link; the same one query for a known and an unknown (or malformed) id (a
    malformed one, such as a NUL that PostgreSQL would refuse, is looked up as "-", which no link is)."""
    if not _RID_SHAPE.fullmatch(rid):
        rid = "-"
    return Recipient.objects.select_related("simulation", "employee").filter(rid=rid).first()


def _mark(recipient: Recipient, kind: str, field: str, at: datetime, via: str, *, every_time: bool = True) -> bool:
    """An event (``every_time``, else only the first time), and the recipient's time of that step if it had none;
    True when it was the first."""
    first = bool(Recipient.objects.filter(pk=recipient.pk, **{f"{field}__isnull": True}).update(**{field: at}))
    if first:
        setattr(recipient, field, at)
    if first or every_time:
        SimulationEvent.objects.create(recipient=recipient, kind=kind, at=at, via=via)
    return first


def assign_lesson(recipient: Recipient, *, at: datetime | None = None) -> Assignment | None:
    """Assign ``[training] lesson_module`` to the recipient (due in ``lesson_due_days``); None when the module
    does not exist (or is archived) or the employee is no longer active."""
    config = settings.SMISHGUARD.training
    employee = recipient.employee
    if not config.lesson_module or not employee.is_active:
        return None
    module = Module.objects.filter(slug=config.lesson_module, archived_at__isnull=True).first()
    if module is None:
        return None
    at = at or timezone.now()
    return compliance.assign(
        employee,
        module,
        due_at=at + timedelta(days=config.lesson_due_days),
        source=Assignment.Source.SIMULATION,
        assigned_by=f"simulation:{recipient.simulation_id}",
    )


def record_click(recipient: Recipient) -> bool:
    """A real browser opened the link: a ``clicked`` event (the first time also ``clicked_at``) and the lesson
    assigned.  True when it was the recipient's first click."""
    now = timezone.now()
    with transaction.atomic():
        first = _mark(recipient, Kind.CLICKED, "clicked_at", now, "browser")
    assign_lesson(recipient, at=now)
    return first


def record_submit(recipient: Recipient, *, request=None) -> bool:
    """Someone pressed "Sign in" on the drill's page.  What they typed is not an argument: nothing of it exists
    here.  A ``submitted`` event (and ``clicked`` if the page was never counted as opened, so the funnel stays a
    funnel), audited without a body; a fresh key touch demanded of the employee's sessions; the lesson assigned.
    True when it was the recipient's first submit."""
    now = timezone.now()
    employee = recipient.employee
    with transaction.atomic():
        if recipient.clicked_at is None:
            _mark(recipient, Kind.CLICKED, "clicked_at", now, "browser")
        first = _mark(recipient, Kind.SUBMITTED, "submitted_at", now, "browser")
        record(
            Action.SIMULATION_SUBMITTED,
            request=request,
            subject=employee,
            simulation=recipient.simulation_id,
            recipient=recipient.pk,
            first=first,
        )
        sessions.require_key_touch(employee, reason="simulation submit", actor_label="system")
    assign_lesson(recipient, at=now)
    return first


def record_report(recipient: Recipient, *, via: str) -> bool:
    """The drill came back to the security team (``via``: "sms-forward" or "sms-reply"): the first time, a
    ``reported`` event and ``reported_at`` (so a text handed to the handlers again changes nothing).  True when it
    was the first report."""
    with transaction.atomic():
        return _mark(recipient, Kind.REPORTED, "reported_at", timezone.now(), via, every_time=False)


def time_to_report(recipient: Recipient) -> timedelta | None:
    """``reported_at - sent_at``, when both are known."""
    if recipient.reported_at is None or recipient.sent_at is None:
        return None
    return max(recipient.reported_at - recipient.sent_at, timedelta(0))


def opt_out(phone: str) -> bool:
    """STOP to the simulation sender: no more drills to ``phone`` (audited).  True when it was not opted out."""
    with transaction.atomic():
        _row, created = SimulationOptOut.objects.get_or_create(phone=phone)
        if created:
            record(Action.SIMULATION_OPTED_OUT, actor_label=phone, subject_label=phone, phone=phone)
    return created


def opt_in(phone: str) -> bool:
    """START to the simulation sender: drills to ``phone`` again (audited).  True when it was opted out."""
    with transaction.atomic():
        deleted, _ = SimulationOptOut.objects.filter(phone=phone).delete()
        if deleted:
            record(Action.SIMULATION_OPTED_IN, actor_label=phone, subject_label=phone, phone=phone)
    return bool(deleted)


@dataclass(frozen=True)
class Lesson:
    """What the lesson page says gave the drill away."""

    company: str
    text: str  # the drill's text as it was sent (the link in it), or "" when there is no template
    sender: str  # the number it came from ("" when not configured)
    host: str  # the link's host
    urgency: tuple[str, ...]  # the words in the text that pressed for haste
    reporting_number: str  # where to forward a suspicious text ("" when not configured)
    brand: str  # the brand the drill imitated, if any
    submitted: bool
    module_slug: str  # the module assigned ("" when none)


def lesson(recipient: Recipient) -> Lesson:
    config = settings.SMISHGUARD.training
    simulation = recipient.simulation
    text = simulations.render(simulation.template, recipient.employee, recipient.rid)
    seen: dict[str, None] = {}
    for match in _URGENCY.finditer(simulation.template):
        seen.setdefault(match.group(1).lower())
    numbers = settings.SMISHGUARD.twilio.from_numbers
    assigned = ""
    if config.lesson_module and Module.objects.filter(slug=config.lesson_module, archived_at__isnull=True).exists():
        assigned = config.lesson_module
    return Lesson(
        company=simulations.company(),
        text=text,
        sender=config.simulation_sender,
        host=link_host(),
        urgency=tuple(seen),
        reporting_number=numbers[0] if numbers else "",
        brand=simulation.brand,
        submitted=recipient.submitted_at is not None,
        module_slug=assigned,
    )
