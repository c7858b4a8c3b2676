"""A week of detection data for ``smishguard demo``, made by the product itself (issue 11): the detection pages
(reported texts, campaigns, CT alerts, the blocklist) are not empty on a first start.

Nothing here writes a row of its own.  Every reported text goes through :func:`smishguard.reports.intake.submit`
(scanned by the engine against the demo's brands, clustered into campaigns, answered, audited, and acted on by the
response policy: the Okta lookalike is blocklisted, and the staff warning goes out — queued, waiting for a
Twilio account — when three employees report it within the hour); each is dated in the past week with
``received_at``.  The CT alert comes from a certificate in certstream's message form, written to
``<data folder>/demo/ct-replay.jsonl`` and read by the watcher's own replay path (``watch ct --replay``): the
real matcher raises it, and ``watch status`` lists the replay.  The parcel-toll campaign is blocklisted by the
response function an analyst's button calls.

Idempotent: a forwarded text carries a MessageSid (the intake answers a seen one with its first report), a
portal text is not sent twice by the same employee, the watcher keeps one alert per domain, and once the replay
has run (its state row exists) nothing is done at all — so a second ``smishguard demo`` adds nothing.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

log = logging.getLogger("smishguard.demo")

SID_PREFIX = "SMde70"  # MessageSids of the demo's forwarded texts ("SM" + 32 hex digits, like Twilio's)
UNKNOWN_NUMBER = "+12025550147"  # a number that is no employee's: recorded, never trusted

OKTA = "okta-verify-login.com"  # a lookalike of the demo's Okta brand
TOLL = "tollpay-notice.com"  # no brand: grouped by the domain and the wording
CT_NAMES = ("examp1e-login.com", "www.examp1e-login.com")  # a certificate for a lookalike of Example


@dataclass(frozen=True)
class Reported:
    ago: timedelta  # before the first start of the demo
    who: str  # an employee's e-mail, or a phone number
    channel: str  # "sms" (forwarded to the reporting number) or "portal"
    text: str
    sender: str = ""


def _ago(days: int, hours: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours)


WEEK: tuple[Reported, ...] = (
    Reported(
        _ago(6, 7.5),
        "ivy.ops@example.com",
        "sms",
        f"Okta: your sign-in session expires today. Verify your account at https://{OKTA}/session to keep access.",
        "+14155550199",
    ),
    Reported(
        _ago(6, 7),
        "carl.support@example.com",
        "portal",
        f"Okta: your sign-in session expires today. Verify your account at https://{OKTA}/session to keep access.",
        "+14155550199",
    ),
    Reported(
        _ago(5, 3),
        UNKNOWN_NUMBER,
        "sms",
        f"Okta alert: unusual sign-in blocked. Confirm it was you at https://{OKTA}/confirm within 1 hour",
    ),
    Reported(
        _ago(4, 9),
        "fay.finance@example.com",
        "sms",
        f"Toll services: you have an unpaid toll of $4.15. Pay now at https://{TOLL}/pay to avoid a late fee",
        "+13105550123",
    ),
    Reported(
        _ago(4, 8.5),
        "eli.sales@example.com",
        "sms",
        f"Toll services: you have an unpaid toll of $6.80. Pay now at https://{TOLL}/pay/2 to avoid a late fee",
        "+13105550188",
    ),
    Reported(_ago(3, 5), "ian.hr@example.com", "portal", "Hi Ada, lunch at 12:30", "+14155550100"),
    Reported(
        _ago(2, 6),
        "hana.eng@example.com",
        "sms",
        "WINNER!! You have been selected for a 1000 GBP prize. Call 09061701461 now to claim",
        "80082",
    ),
    Reported(
        _ago(1, 4),
        "gus.eng@example.com",
        "sms",
        f"Toll services: you have an unpaid toll of $4.15. Pay now at https://{TOLL}/pay to avoid a late fee",
        "+13105550123",
    ),
    # this morning: three employees within the hour, so the response policy warns all staff
    Reported(
        _ago(0, 2),
        "dana.support@example.com",
        "sms",
        f"Okta: your MFA device was removed. Re-enrol now at https://{OKTA}/mfa or lose access today",
        "+14155550177",
    ),
    Reported(
        _ago(0, 1.75),
        "gus.eng@example.com",
        "portal",
        f"Okta: your MFA device was removed. Re-enrol now at https://{OKTA}/mfa or lose access today",
        "+14155550177",
    ),
    Reported(
        _ago(0, 1.5),
        "hana.eng@example.com",
        "sms",
        f"Okta: your MFA device was removed. Re-enrol now at https://{OKTA}/mfa or lose access today",
        "+14155550177",
    ),
)


def replay_path() -> Path:
    from smishguard.config import data_dir

    return data_dir() / "demo" / "ct-replay.jsonl"


def _replayed(path: Path) -> bool:
    """True once the demo's replay has run (``watch.store.ensure_replay_state`` keeps its row)."""
    from smishguard.watch.models import LogState

    return LogState.objects.filter(url=os.path.abspath(path), api=LogState.Api.REPLAY).exists()


def seed_week(now: datetime | None = None) -> bool:
    """Seed the week (once); True when it did.  ``now`` is the moment the week ends (default: now)."""
    path = replay_path()
    if _replayed(path):
        return False  # the last step ran: the week is there
    now = now or timezone.now()
    reports = _report_texts(now)
    _blocklist_toll(reports)
    _replay_certificate(path, now - _ago(3, 2))
    return True


def _report_texts(now: datetime) -> list:
    from smishguard.reports import intake
    from smishguard.reports.models import Report

    made = []
    for number, item in enumerate(sorted(WEEK, key=lambda r: r.ago, reverse=True)):
        by_email = "@" in item.who
        reporter = intake.reporter_by_email(item.who) if by_email else intake.reporter_by_phone(item.who)
        sid = f"{SID_PREFIX}{number:028x}" if item.channel == "sms" else None
        if sid is None:
            existing = Report.objects.filter(reporter_label=reporter.label, text=item.text, channel=item.channel)
            if existing.exists():
                made.append(existing.first())
                continue
        made.append(
            intake.submit(
                item.text,
                channel=item.channel,
                reporter=reporter,
                sender=item.sender,
                message_sid=sid,
                received_at=now - item.ago,
            )
        )
    return made


def _blocklist_toll(reports: list) -> None:
    """The analyst's "Add to blocklist" on the toll campaign (no brand, so the policy left it to a person)."""
    from smishguard.reports import response

    campaign = next((r.campaign for r in reports if r.campaign is not None and TOLL in r.campaign.domains), None)
    if campaign is not None:
        response.add_to_blocklist(campaign, [TOLL])


def _certstream_line(seen: datetime) -> str:
    """One certificate as a certstream server sends it (``certificate_update``, the "full" form's fields)."""
    message = {
        "message_type": "certificate_update",
        "data": {
            "update_type": "X509LogEntry",
            "cert_index": 1_482_113_907,
            "seen": seen.timestamp(),
            "source": {"name": "Google 'Argon2026h1' log", "url": "https://ct.googleapis.com/logs/us1/argon2026h1/"},
            "leaf_cert": {
                "all_domains": list(CT_NAMES),
                "issuer": {"C": "US", "O": "Let's Encrypt", "CN": "R11"},
                "not_before": int((seen - timedelta(minutes=12)).timestamp()),
                "not_after": int((seen + timedelta(days=90)).timestamp()),
                "subject": {"CN": CT_NAMES[0]},
            },
        },
    }
    return json.dumps(message)


def _replay_certificate(path: Path, seen: datetime) -> None:
    """``smishguard watch ct --replay FILE --once``, in process: the watcher's replay path and real matcher."""
    from smishguard.detection.services import current_matcher
    from smishguard.engine.ct import open_replay
    from smishguard.watch import store
    from smishguard.watch.config import WatchOptions
    from smishguard.watch.runner import Console, Figures, Watcher

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_certstream_line(seen) + "\n", encoding="utf-8")
    console = Console(Figures(), io.StringIO(), interval=0, live=False)
    watcher = Watcher(matcher=current_matcher(), options=WatchOptions(), console=console, stop=threading.Event())
    with open_replay(path) as items:
        key = store.ensure_replay_state(str(path)).key
        bad = watcher.run_stream(items, label=f"replay {path}", what="line", state_key=key, kind="replay")
    if bad:
        log.warning("demo: %d line(s) of %s could not be read", bad, path)
