"""Bugs the screenshots showed on the campaign page: who reported it, and who did what in its timeline.

* The timeline's "By" column said ``cli`` for every report (and for the report that formed the campaign):
  the reporter was not recorded on those lines.  It must name the reporter, as the summary does.
* The reporters table showed a known employee only by the phone number they forwarded from: the analyst
  could not tell who it was.  It must give the employee's name beside the number.
"""

from __future__ import annotations

import html

import pytest
from django.conf import settings

from smishguard.accounts import services, sessions
from smishguard.detection import services as detection
from smishguard.reports import intake
from smishguard.reports.models import CampaignEvent, Report

pytestmark = pytest.mark.django_db

LURE = "Example IT: your password has expired, reset it at example-sso.com"
UNKNOWN = "+447700900123"


@pytest.fixture
def admin(client):
    detection.save_brand(name="Example", domains=["example.com"])
    person = services.add_employee(email="sec@example.com", name="Sec Admin", is_admin=True, phone="+447700900009")
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    return person


@pytest.fixture
def campaign(admin):
    carl = services.add_employee(email="carl@example.com", name="Carl Support", phone="+14155550103")
    dana = services.add_employee(email="dana@example.com", name="Dana Support", phone="+14155550104")
    first = intake.submit(LURE, channel=Report.Channel.SMS, reporter=intake.reporter_by_phone(carl.phone))
    intake.submit(LURE, channel=Report.Channel.SMS, reporter=intake.reporter_by_phone(UNKNOWN))
    intake.submit(LURE, channel=Report.Channel.PORTAL, reporter=intake.reporter_for(dana))
    return first.campaign


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def test_the_timeline_names_who_reported_each_text(campaign):
    rows = campaign.events.filter(kind__in=[CampaignEvent.Kind.CREATED, CampaignEvent.Kind.REPORTED])
    assert [(e.kind, e.actor_label) for e in rows.order_by("at", "id")] == [
        ("created", "+14155550103"),
        ("reported", "+14155550103"),
        ("reported", UNKNOWN),
        ("reported", "dana@example.com"),
    ]
    assert not campaign.events.filter(actor_label="cli").exists()


def test_policy_actions_stay_marked_as_the_policy(campaign):
    blocked = campaign.events.get(kind=CampaignEvent.Kind.BLOCKLISTED)
    assert blocked.automatic
    assert blocked.actor_label == "policy"


def test_an_analysts_action_names_the_analyst(client, admin, campaign):
    response = client.post(f"/console/campaigns/{campaign.pk}/status", {"status": "contained"})
    assert response.status_code == 302
    assert campaign.events.get(kind=CampaignEvent.Kind.STATUS).actor_label == "sec@example.com"


def test_the_campaign_page_names_the_employees_who_reported_it(client, campaign):
    text = page(client, f"/console/campaigns/{campaign.pk}")
    reporters = text[text.index("<h2>Reporters</h2>") : text.index("<h2>Sample texts</h2>")]
    assert "Carl Support" in reporters
    assert "+14155550103" in reporters
    assert "Dana Support" in reporters
    # An unknown number has no name, and is marked as such.
    row = reporters[reporters.index(UNKNOWN) :]
    assert "unknown" in row[: row.index("</tr>")]
    timeline = text[text.index("<h2>Timeline</h2>") :]
    assert ">cli<" not in timeline


def test_the_inbox_names_the_employee_beside_the_number(client, campaign):
    text = page(client, "/console/reports")
    assert "Carl Support" in text
    assert "+14155550103" in text
