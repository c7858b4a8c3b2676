"""Issue 11 item 4: the reporter's answer says what actually happened — never "we are warning everyone" when
nobody was warned; "staff have been warned" only when the warning was queued, "blocked" only when it was."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import html

import pytest
from django.conf import settings
from twilio_fixtures import configure, fake, make_employees  # noqa: F401 - the shared pytest fixtures

from smishguard.accounts import sessions
from smishguard.detection import services as detection
from smishguard.reports import intake
from smishguard.reports.models import Campaign

pytestmark = pytest.mark.django_db

PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


def test_an_unknown_reporter_is_not_told_that_everyone_is_warned(configure):
    report = intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone("+12025550199"))
    assert report.verdict == "smishing"
    assert "warning everyone" not in report.reply
    assert "warned" not in report.reply
    assert "security team" in report.reply
    assert Campaign.objects.get().warned_at is None


def test_a_known_reporter_of_a_lookalike_is_told_the_site_is_blocked_not_that_staff_are_warned(
    configure, make_employees
):
    [sam] = make_employees(1)
    report = intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    assert "warning everyone" not in report.reply
    assert "blocked" in report.reply
    assert "twilio-sso.com" in report.reply
    assert "warned" not in report.reply


def test_the_report_that_triggers_the_warning_is_told_staff_were_warned(configure, make_employees):
    people = make_employees(3)
    replies = [intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(p.phone)).reply for p in people]
    assert Campaign.objects.get().warned_at is not None
    assert all("warning everyone" not in r for r in replies)
    assert "warned" not in replies[0]
    assert "warning to all staff" in replies[2]


def test_the_portal_shows_what_happened(client, make_employees):
    [sam] = make_employees(1)
    token, _ = sessions.create(sam, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    page = html.unescape(client.post("/portal/report", {"text": PHISH}).content.decode())
    assert "we are warning everyone" not in page
    assert "is now blocked" in page
