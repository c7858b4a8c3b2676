"""Issue 11 item 3: with no Twilio account (the demo), "Warn all staff" and the security notices are queued and
shown as waiting for a Twilio account — never refused with "no sender"; once an account is configured, the
worker sends what waited."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import dataclasses
import html

import pytest
from django.conf import settings
from twilio_fixtures import configure, fake, keeping_the_test_connection, make_employees, run_worker  # noqa: F401 - the shared pytest fixtures

from smishguard.accounts import sessions
from smishguard.accounts.signals import notify
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.config import TwilioSettings
from smishguard.detection import services as detection
from smishguard.messaging import worker
from smishguard.messaging.models import Broadcast, OutboundMessage
from smishguard.reports import intake
from smishguard.reports.models import Campaign

pytestmark = pytest.mark.django_db

PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"
WAITING = "waiting for a Twilio account"


@pytest.fixture(autouse=True)
def no_twilio(db, settings):
    detection.save_brand(name="Twilio", domains=["twilio.com"])
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, twilio=TwilioSettings())


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def test_warn_all_staff_without_twilio_is_queued_and_shown_waiting(client, admin, make_employees, request):
    make_employees(3)
    intake.submit(PHISH, channel="api", reporter=intake.reporter_by_phone("+12025550100"))
    campaign = Campaign.objects.get()
    confirm = page(client, f"/console/campaigns/{campaign.pk}/warn")
    assert WAITING in confirm  # said before the click
    response = client.post(f"/console/campaigns/{campaign.pk}/warn", {"confirm": "yes"})
    assert response.status_code == 302
    assert Broadcast.objects.count() == 1
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"waiting"}
    assert OutboundMessage.objects.count() == 4
    campaign.refresh_from_db()
    assert campaign.warned_at is not None
    shown = page(client, f"/console/campaigns/{campaign.pk}")
    assert f"4 {WAITING}" in shown
    assert "could not be queued" not in shown
    assert "no sender" not in shown
    assert Event.objects.filter(action=Action.CAMPAIGN_WARNED, actor=admin).count() == 1

    # the worker has nothing it can send: `worker --until-idle` ends, and the sends still wait
    with keeping_the_test_connection():
        worker.run(interval=0.02, until_idle=True, timeout=20, handle_signals=False)
    assert worker.unfinished() == 0
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"waiting"}

    # an account is connected later: the waiting sends go out, once each
    server = request.getfixturevalue("fake")
    request.getfixturevalue("configure")
    run_worker()
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    for message in OutboundMessage.objects.all():
        assert len(server.sent_to(message.to)) == 1
    after = page(client, f"/console/campaigns/{campaign.pk}")
    assert "4 texts: 4 sent" in after
    assert f"4 {WAITING}" not in after  # the timeline keeps its history; the figures are current


def test_a_security_notice_without_twilio_is_queued_waiting_then_sent(make_employees, request):
    [sam] = make_employees(1)
    answers = notify(sam, "smishguard: a security key was added to your account.", key="test-1", kind="key_added")
    assert answers == ["queued"]
    message = OutboundMessage.objects.get()
    assert (message.status, message.to, message.purpose) == ("waiting", sam.phone, "notice")
    assert Event.objects.filter(action=Action.SECURITY_NOTICE_QUEUED, subject=sam).count() == 1
    assert not Event.objects.filter(action=Action.SECURITY_NOTICE_SKIPPED).exists()
    server = request.getfixturevalue("fake")
    request.getfixturevalue("configure")
    run_worker()
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(server.sent_to(sam.phone)) == 1


def test_the_warnings_message_page_lists_each_text_waiting_for_a_twilio_account(client, admin, make_employees):
    people = make_employees(2)
    intake.submit(PHISH, channel="api", reporter=intake.reporter_by_phone("+12025550100"))
    campaign = Campaign.objects.get()
    client.post(f"/console/campaigns/{campaign.pk}/warn", {"confirm": "yes"})
    assert f"/console/campaigns/{campaign.pk}/warning" in page(client, f"/console/campaigns/{campaign.pk}")
    listing = page(client, f"/console/campaigns/{campaign.pk}/warning")
    for person in people:
        assert person.name in listing
    assert listing.count("Waiting for a Twilio account") == 3  # Person 0, Person 1 and the admin
    assert "twilio-sso[.]com" in listing  # the text sent


def test_the_warnings_message_page_is_for_admins_only(client, make_employees):
    [person] = make_employees(1)
    intake.submit(PHISH, channel="api", reporter=intake.reporter_by_phone("+12025550100"))
    campaign = Campaign.objects.get()
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    assert client.get(f"/console/campaigns/{campaign.pk}/warning").status_code == 403
