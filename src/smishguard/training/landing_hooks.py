"""The landing area's registrations with lower apps (called from hooks.register_all): the inbound-text handler
that claims a drill before the report intake (``reports``, the catch-all) sees it.

What it claims (``messaging.inbound``; the reply is sent back as an SMS):

* A text that carries a simulation's tracked link (``/s/<rid>`` of a known recipient), wherever it was sent: the
  drill came back, so it is ``reported`` (the recipient whose phone sent it when several links are in it, else
  the first) and answered "Well spotted".  It never reaches the reports app: no report, no campaign, no
  blocklist, no all-staff warning.
* A text that names the tracked links' host but no known link (a link cut short by a forward): answered as a
  drill, nothing recorded, still kept from the reports app.
* A text to the simulation sender (``[training] simulation_sender``; Twilio's ``To``): ``STOP`` (and Twilio's other
  opt-out words) adds a ``SimulationOptOut`` for the number; ``START`` removes it; ``REPORT`` counts the latest
  drill sent to that phone as reported; anything else is answered with what the number is for.  A STOP to the
  reporting number is not a drill's business and goes on to the next handler.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings

from smishguard.messaging import inbound
from smishguard.training import landing
from smishguard.training.links import link_netloc
from smishguard.training.models import Recipient

NAME = "training"
ORDER = 100  # before the report intake (inbound.LAST)

_RID = re.compile(r"/s/([A-Za-z0-9_-]{6,64})")
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
REPORT_WORDS = frozenset({"REPORT", "REPORTED", "PHISHING", "SPAM"})

SPOTTED = (
    "Well spotted: that was a drill run by your security team, and reporting it was exactly the right thing to do."
)
SPOTTED_TIME = " You reported it {minutes} after it arrived."
CUT_SHORT = (
    "That looks like one of your security team's practice texts: thanks for reporting it. "
    "Keep forwarding anything suspicious to this number."
)
NOT_FOUND = "Thanks. We could not find a practice text sent to this phone, so nothing was counted."
OPTED_OUT = (
    "You will get no more practice texts from the security team. Real security warnings still reach you from "
    "the reporting number. Text START to take part again."
)
OPTED_IN = "You are back in the security team's practice texts. Text STOP to leave them."
ABOUT = (
    "This number sends the security team's practice texts. To report a suspicious text, forward it to the "
    "reporting number{number}. Text REPORT if you think one of ours is a phish, STOP to get no more."
)


def register() -> None:
    inbound.register(NAME, handle, order=ORDER)


def _keyword(body: str) -> str:
    text = body.strip()
    if len(text) > 24:
        return ""
    return re.sub(r"[^A-Za-z]", "", text).upper()


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


def _same_number(a: str, b: str) -> bool:
    return bool(_digits(a)) and _digits(a) == _digits(b)


def _recipients_in(body: str) -> list[Recipient]:
    rids = list(dict.fromkeys(m.group(1) for m in _RID.finditer(body)))[:10]
    if not rids:
        return []
    found = {r.rid: r for r in Recipient.objects.select_related("employee", "simulation").filter(rid__in=rids)}
    return [found[rid] for rid in rids if rid in found]


def _names_link_host(body: str) -> bool:
    """The text names the tracked links' host with a /s/ path, or the simulation host at all (when one is set)."""
    lowered = body.lower()
    host = link_netloc().lower()
    if f"{host}/s/" in lowered:
        return True
    simulation_host = settings.SMISHGUARD.training.simulation_host.lower().split(":")[0]
    return bool(simulation_host) and simulation_host in lowered


def _duration(delta: timedelta) -> str:
    """The time to report as the SMS reply says it: "12 minutes", "3 hours", "2 days" (never under a minute).
    Not charts.short_duration (the console's compact cells: "1 h 5 min") nor accounts.sessions' exact session
    lengths ("90 seconds"): a sentence to the person who reported, worded for them (tests/training/
    test_landing_durations.py)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hours"
    return f"{round(hours / 24)} days"


def _spotted(recipient: Recipient, *, via: str) -> str:
    landing.record_report(recipient, via=via)
    delay = landing.time_to_report(recipient)
    return SPOTTED + (SPOTTED_TIME.format(minutes=_duration(delay)) if delay is not None else "")


def _latest_sent_to(phone: str) -> Recipient | None:
    people = Recipient.objects.select_related("employee", "simulation").filter(
        employee__phone__in={phone, "+" + _digits(phone)} - {"+"}, queued_at__isnull=False
    )
    return people.order_by("-sent_at", "-queued_at", "-pk").first()


def handle(text: inbound.InboundText) -> str | None:
    config = settings.SMISHGUARD.training
    to_sender = bool(config.simulation_sender) and _same_number(text.to_number, config.simulation_sender)
    recipients = _recipients_in(text.body)
    if recipients:
        own = [r for r in recipients if _same_number(r.employee.phone, text.from_number)]
        return _spotted((own or recipients)[0], via="sms-reply" if to_sender else "sms-forward")
    if to_sender:
        word = _keyword(text.body)
        if word in STOP_WORDS:
            landing.opt_out(text.from_number)
            return OPTED_OUT
        if word in START_WORDS:
            landing.opt_in(text.from_number)
            return OPTED_IN
        if word in REPORT_WORDS:
            recipient = _latest_sent_to(text.from_number)
            return NOT_FOUND if recipient is None else _spotted(recipient, via="sms-reply")
        numbers = settings.SMISHGUARD.twilio.from_numbers
        return ABOUT.format(number=f" {numbers[0]}" if numbers else "")
    if _names_link_host(text.body):
        return CUT_SHORT
    return None
