"""Reports coming in: a forwarded SMS, the portal's form, ``POST /api/reports``.

Every path ends in :func:`submit`: the reporter is matched to an employee (by phone number, e-mail or session;
only an ACTIVE employee is "known", and only known reporters' reports can trigger the response policy), the
text is scanned by the detection engine against the database's brands, stored with its verdict, put into a
campaign, and answered in plain words.  A reporter who sends more than ``[response] report_limit`` reports
within ``report_window_seconds`` is refused politely; the refused report is still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.detection.services import current_matcher
from smishguard.messaging.inbound import InboundText
from smishguard.reports import campaigns, response
from smishguard.reports.errors import InvalidReport
from smishguard.reports.models import Report

log = logging.getLogger("smishguard.reports")

MAX_REPORT_CHARS = 5000  # a forwarded text, with a line or two around it; a long SMS is 1600
MAX_SENDER_CHARS = 200

# The answer to a phishing text says what was actually done about it (issue 11: never "we are warning
# everyone" when nobody was warned): the report reached the security team; and, when the response policy acted
# on it, that the site is now blocked and/or that a warning to all staff was queued.
PHISHING_REPLY = (
    "Thanks — this is a phishing text. Don't open the link or reply; delete it. The security team has your report."
)
PHISHING_BLOCKED = " The site it links to ({domains}) is now blocked on the company's network."
PHISHING_WARNED = " A warning to all staff has been queued."
SPAM_REPLY = (
    "Thanks — this looks like spam (unwanted advertising), not an attack on the company. Delete it; don't reply."
)
SAFE_REPLY = "This looks safe because {reasons}. If it still feels wrong, ask the IT help desk before you click."
EMPTY_REPLY = "We could not find a text in your message. Please forward or paste the suspicious text itself."
LIMIT_REPLY = (
    "You have sent us many reports in a short time. Please wait a few minutes before sending more; "
    "what you sent is kept."
)


@dataclass(frozen=True)
class Reporter:
    employee: Any  # accounts.Employee or None
    known: bool
    phone: str = ""
    email: str = ""
    label: str = ""


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def reporter_by_phone(phone: str) -> Reporter:
    """The employee with this number (E.164, exactly as Twilio gives it); unknown numbers are not trusted."""
    from smishguard.accounts.models import Employee

    phone = (phone or "").strip()
    employee = None
    if phone:
        candidates = {phone, "+" + _digits(phone)} - {"+"}
        people = Employee.objects.filter(phone__in=candidates)
        employee = people.filter(status="active").order_by("pk").first() or people.order_by("pk").first()
    return Reporter(
        employee=employee,
        known=bool(employee is not None and employee.is_active),
        phone=phone,
        email=employee.email if employee else "",
        label=phone or "unknown number",
    )


def reporter_by_email(email: str) -> Reporter:
    from smishguard.accounts.models import Employee

    email = (email or "").strip().lower()
    employee = Employee.objects.filter(email__iexact=email).first() if email else None
    return Reporter(
        employee=employee,
        known=bool(employee is not None and employee.is_active),
        phone=employee.phone if employee else "",
        email=email,
        label=email or "unknown",
    )


def reporter_for(employee: Any) -> Reporter:
    return Reporter(
        employee=employee, known=employee.is_active, phone=employee.phone, email=employee.email, label=employee.email
    )


def reply_for(result: Any, *, blocked: Sequence[str] = (), warned: bool = False) -> str:
    """What the reporter is told, in plain words: the verdict, and for a phishing text what was done about it
    (``blocked``: the domains of this report on the blocklists; ``warned``: a warning to all staff is queued)."""
    if result.verdict == "smishing":
        text = PHISHING_REPLY
        if blocked:
            text += PHISHING_BLOCKED.format(domains=", ".join(blocked[:3]))
        if warned:
            text += PHISHING_WARNED
        return text
    if result.verdict == "spam":
        return SPAM_REPLY
    wanted = ("official-domain", "text-model")
    reasons = [r.detail for r in result.reasons if r.code in wanted] or [r.detail for r in result.reasons[:1]]
    text = "; ".join(reasons) or "nothing in it points at a fake site"
    return SAFE_REPLY.format(reasons=text)[:1200]


def _check_text(text: object, sender: object) -> tuple[str, str]:
    if not isinstance(text, str):
        raise InvalidReport("the text must be a string")
    if not text.strip():
        raise InvalidReport("the text is empty")
    if len(text) > MAX_REPORT_CHARS:
        raise InvalidReport(f"the text is longer than {MAX_REPORT_CHARS} characters")
    if "\x00" in text:
        raise InvalidReport("the text contains a NUL byte: send the text, not a file")
    sender = sender or ""
    if not isinstance(sender, str) or len(sender) > MAX_SENDER_CHARS or "\x00" in sender:
        raise InvalidReport(f"the sender must be text of at most {MAX_SENDER_CHARS} characters")
    return text, sender.strip()


def _limited(reporter: Reporter, now) -> bool:
    rules = response.policy()
    since = now - timedelta(seconds=rules.report_window_seconds)
    return Report.objects.filter(reporter_label=reporter.label, created_at__gte=since).count() >= rules.report_limit


def _employee_names() -> frozenset[str]:
    from smishguard.accounts.models import Employee

    return campaigns.name_words(Employee.objects.values_list("name", flat=True))


def _domains(result: Any) -> tuple[list[str], list[str], str]:
    """(registrable domains linked to, less official ones and shorteners; lookalike ones; the brand)."""
    shorteners = set()
    for link in result.links:
        if link.is_shortener:
            shorteners.update({link.host, link.host_unicode})
    linked: list[str] = []
    lookalikes: list[str] = []
    brand = ""
    for d in result.domains:
        if d.verdict == "official" or d.domain in shorteners or d.registrable in shorteners:
            continue
        if d.registrable not in linked:
            linked.append(d.registrable)
        if d.verdict == "lookalike":
            if d.registrable not in lookalikes:
                lookalikes.append(d.registrable)
            brand = brand or (d.brand or "")
    return linked, lookalikes, brand


def _what_was_done(report: Report, campaign: Any) -> dict[str, Any]:
    """What the response policy did for this report, as :func:`reply_for` words it (read after it ran)."""
    from smishguard.reports.models import BlocklistEntry

    blocked = list(
        BlocklistEntry.objects.filter(domain__in=report.domains, removed_at__isnull=True)
        .order_by("domain")
        .values_list("domain", flat=True)
    )
    return {"blocked": blocked, "warned": bool(campaign is not None and campaign.warned_at is not None)}


def submit(
    text: object,
    *,
    channel: str,
    reporter: Reporter,
    sender: object = "",
    message_sid: str | None = None,
    request: Any = None,
    received_at: datetime | None = None,
) -> Report:
    """Record, scan and cluster one report; returns it (``state`` says whether it was rate-limited).

    Raises InvalidReport for unusable input.  A ``message_sid`` seen before returns that report (a replay).
    ``received_at`` (default: now; never in the future) dates a report received earlier — a text forwarded
    late, an import, the demo's week — for its row, its campaign's first/last seen and its timeline lines.
    """
    if message_sid:
        existing = Report.objects.filter(message_sid=message_sid).first()
        if existing is not None:
            return existing
    text, sender = _check_text(text, sender)
    now = _received_moment(received_at)
    base = {
        "channel": channel,
        "text": text,
        "sender": sender,
        "reporter": reporter.employee,
        "reporter_known": reporter.known,
        "reporter_phone": reporter.phone[:32],
        "reporter_email": reporter.email[:254],
        "reporter_label": reporter.label[:254],
        "message_sid": message_sid or None,
        "created_at": now,
    }
    if _limited(reporter, now):
        return _record_rate_limited(base, reporter, channel=channel, request=request)
    try:
        return _record_scanned(base, reporter, channel=channel, request=request)
    except IntegrityError:
        # the same MessageSid at the same moment from another request: that one has it
        existing = Report.objects.filter(message_sid=message_sid).first() if message_sid else None
        if existing is None:
            raise
        return existing


def _received_moment(received_at: datetime | None) -> datetime:
    now = timezone.now()
    if received_at is None:
        return now
    if timezone.is_naive(received_at) or received_at > now:
        raise InvalidReport("the time received must be timezone-aware and not in the future")
    return received_at


def _record_rate_limited(base: dict[str, Any], reporter: Reporter, *, channel: str, request: Any) -> Report:
    """A reporter over the limit: the report is kept (state rate-limited), audited once per window."""
    since = base["created_at"] - timedelta(seconds=response.policy().report_window_seconds)
    first = not Report.objects.filter(
        reporter_label=reporter.label, state=Report.State.RATE_LIMITED, created_at__gte=since
    ).exists()
    with transaction.atomic():
        report = Report.objects.create(**base, state=Report.State.RATE_LIMITED, reply=LIMIT_REPLY)
        if first:
            record(
                Action.REPORT_RATE_LIMITED,
                request=request,
                subject=reporter.employee,
                subject_label=None if reporter.employee else reporter.label,
                channel=channel,
                reporter=reporter.label,
                limit=response.policy().report_limit,
            )
    return report


def _record_scanned(base: dict[str, Any], reporter: Reporter, *, channel: str, request: Any) -> Report:
    """Scan the text, then in one transaction: the report, its campaign, the audit row and the response."""
    from smishguard.engine.sms import verdict

    result = verdict(base["text"], matcher=current_matcher())
    linked, lookalikes, brand = _domains(result)
    fingerprint = campaigns.normalise(
        base["text"], link_texts=[link.raw for link in result.links], names=_employee_names()
    )
    with transaction.atomic():
        report = Report.objects.create(
            **base,
            verdict=result.verdict,
            score=round(float(result.score), 4),
            verdict_json=result.to_dict(),
            domains=linked,
            lookalikes=lookalikes,
            fingerprint=fingerprint,
            reply=reply_for(result),
        )
        campaign, created = campaigns.assign(report, brand=brand)
        record(
            Action.REPORT_RECEIVED,
            request=request,
            subject=reporter.employee,
            subject_label=None if reporter.employee else reporter.label,
            report_id=report.pk,
            channel=channel,
            verdict=result.verdict,
            known=reporter.known,
            campaign_id=campaign.pk if campaign else None,
            for_review=campaign is None,
        )
        if campaign is not None:
            response.after_report(report, campaign, created=created, request=request)
        report.reply = reply_for(result, **_what_was_done(report, campaign))
        Report.objects.filter(pk=report.pk).update(reply=report.reply)
    return report


def handle_inbound_text(text: InboundText) -> str:
    """The last inbound handler (registered in ``ReportsConfig.ready()``): every text no other handler claimed
    becomes a report; the answer says in plain words whether it is phishing.  Never passes."""
    return handle_sms(text.from_number, text.to_number, text.body, text.message_sid)


def handle_sms(from_number: str, to_number: str, body: str, message_sid: str) -> str:  # noqa: ARG001 - the hook's arguments
    """A text forwarded to the reporting number: the reply to send back."""
    if not body or not body.strip():
        return EMPTY_REPLY
    try:
        report = submit(
            body, channel=Report.Channel.SMS, reporter=reporter_by_phone(from_number), message_sid=message_sid
        )
    except InvalidReport as exc:
        log.info("inbound %s from %s refused: %s", message_sid, from_number, exc.message)
        return "We could not read that message as a text: " + exc.message + "."
    if report.state == Report.State.RATE_LIMITED:
        return LIMIT_REPLY
    return report.reply
