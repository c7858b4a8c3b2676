"""Issue 11 item 5: a harmless text is kept and shown for review, but is no open campaign and offers no warning
until an analyst says it is an attack ("This is an attack": audited, then it opens or joins a campaign)."""

from __future__ import annotations

import html

import pytest
from django.conf import settings

from smishguard.accounts import services, sessions
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.reports import intake
from smishguard.reports.models import Campaign, CampaignEvent, Report

pytestmark = pytest.mark.django_db

LUNCH = "Hi Ada, lunch at 12:30"
PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


@pytest.fixture
def ivy(db):
    return services.add_employee(email="ivy@example.com", name="Ivy Ops", phone="+447700900002")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def test_a_harmless_text_is_kept_for_review_and_is_no_campaign(ivy):
    report = intake.submit(LUNCH, channel="sms", reporter=intake.reporter_by_phone(ivy.phone))
    assert report.verdict == "benign"
    assert report.campaign_id is None
    assert not Campaign.objects.exists()
    assert report.to_dict()["for_review"] is True
    assert Report.objects.get().pk == report.pk  # kept
    event = Event.objects.get(action=Action.REPORT_RECEIVED)
    assert event.detail["campaign_id"] is None


def test_the_console_shows_it_for_review_with_no_warning_button(client, admin, ivy):
    report = intake.submit(LUNCH, channel="sms", reporter=intake.reporter_by_phone(ivy.phone))
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(ivy.phone))
    review = page(client, "/console/reports?verdict=review")
    assert LUNCH in review
    assert "twilio-sso.com" not in review
    assert "for review" in page(client, "/console/reports")
    detail = page(client, f"/console/reports/{report.pk}")
    assert "This is an attack" in detail
    assert "Warn all staff" not in detail
    campaigns = page(client, "/console/campaigns")
    assert LUNCH not in campaigns
    assert "Campaign 2" not in campaigns


def test_an_analyst_marks_it_an_attack_which_opens_a_campaign_and_is_audited(client, admin, ivy):
    report = intake.submit(LUNCH, channel="sms", reporter=intake.reporter_by_phone(ivy.phone))
    response = client.post(f"/console/reports/{report.pk}/attack")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.campaign_id is not None
    assert report.to_dict()["for_review"] is False
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.verdict) == ("open", "smishing")
    event = Event.objects.get(action=Action.REPORT_MARKED_ATTACK)
    assert event.actor == admin
    assert event.detail["report_id"] == report.pk
    assert event.detail["campaign_id"] == campaign.pk
    assert CampaignEvent.objects.filter(campaign=campaign, kind="attack").exists()
    assert "Warn all staff" in page(client, f"/console/campaigns/{campaign.pk}")
    client.post(f"/console/reports/{report.pk}/attack")  # twice: nothing more
    assert Event.objects.filter(action=Action.REPORT_MARKED_ATTACK).count() == 1
    assert Campaign.objects.count() == 1


def test_marking_an_attack_is_for_admins_and_by_post_only(client, ivy):
    report = intake.submit(LUNCH, channel="sms", reporter=intake.reporter_by_phone(ivy.phone))
    token, _ = sessions.create(ivy, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    assert client.post(f"/console/reports/{report.pk}/attack").status_code in (302, 403)
    assert Report.objects.get().campaign_id is None
    assert not Event.objects.filter(action=Action.REPORT_MARKED_ATTACK).exists()
