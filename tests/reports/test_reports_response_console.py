"""Console pages of the response: reports inbox (filters), campaigns (with their actions), the blocklist."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import html
import json

import pytest
from django.conf import settings
from twilio_fixtures import configure, fake  # noqa: F401 - the shared pytest fixtures

from smishguard.accounts import services, sessions
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.messaging.models import Broadcast, OutboundMessage
from smishguard.reports import intake
from smishguard.reports.models import BlocklistEntry, Campaign, CampaignEvent
from smishguard.watch.models import LookalikeAlert

pytestmark = pytest.mark.django_db

PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"
# smishing by its wording (the text model), linking to no lookalike of a protected brand
OTHER = "URGENT: your bank account is suspended. Verify your login and password at https://parcel-fee.example.net/p now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    "path", ["/console/reports", "/console/campaigns", "/console/blocklist", "/console/campaigns/1"]
)
def test_pages_are_for_admins_only(client, path):
    assert client.get(path).status_code == 302
    person = services.add_employee(email="emp@example.com", name="Emp", phone="+447700900001")
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    assert client.get(path).status_code == 403


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/console/campaigns/{pk}/blocklist", "post"),
        ("/console/campaigns/{pk}/warn", "post"),
        ("/console/campaigns/{pk}/status", "post"),
        ("/console/campaigns/{pk}/stix", "get"),
    ],
)
def test_actions_are_for_admins_only(client, path, method):
    report = intake.submit(OTHER, channel="api", reporter=intake.reporter_by_phone("+12025550100"))
    person = services.add_employee(email="emp@example.com", name="Emp", phone="+447700900001")
    token, _ = sessions.create(person, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    url = path.format(pk=report.campaign_id)
    data = {"confirm": "yes", "status": "closed"}
    assert getattr(client, method)(url, data).status_code == 403
    assert not BlocklistEntry.objects.exists()
    assert not Broadcast.objects.exists()
    assert Campaign.objects.get().status == "open"


def test_inbox_lists_reports_with_filters(client, admin):
    known = services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(known.phone))
    intake.submit(
        "Lunch moved to 1pm, see you in the canteen", channel="api", reporter=intake.reporter_by_phone("+12025550100")
    )
    everything = page(client, "/console/reports")
    assert "twilio-sso.com" in everything
    assert "Lunch moved" in everything
    smishing = page(client, "/console/reports?verdict=smishing")
    assert "twilio-sso.com" in smishing
    assert "Lunch moved" not in smishing
    unknown = page(client, "/console/reports?reporter=unknown")
    assert "Lunch moved" in unknown
    assert "twilio-sso.com/login" not in unknown
    assert "Lunch" in page(client, "/console/reports?channel=api&q=canteen")
    assert "No reported texts match" in page(client, "/console/reports?q=nothing-like-this")
    detail = page(client, f"/console/reports/{intake.Report.objects.filter(verdict='smishing').get().pk}")
    assert "lookalike-domain" in detail
    assert "known employee" in detail


def test_campaign_page_shows_facts_and_the_timeline(client, admin):
    sam = services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone("+12025550100"))
    campaign = Campaign.objects.get()
    text = page(client, f"/console/campaigns/{campaign.pk}")
    for expected in (
        "twilio-sso.com",
        "+447700900001",
        "+12025550100",
        "unknown",
        "on the blocklists",
        "Campaign formed",
        "Added to the blocklists",
        "Warn all staff",
        "Export STIX",
        PHISH[:40],
    ):
        assert expected in text, expected
    listing = page(client, "/console/campaigns?status=open&verdict=smishing")
    assert f"#{campaign.pk} twilio-sso.com" in listing
    assert "No campaigns match" in page(client, "/console/campaigns?status=closed")


def test_analyst_blocklists_marks_status_and_exports_stix(client, admin):
    intake.submit(OTHER, channel="api", reporter=intake.reporter_by_phone("+12025550100"))  # unknown: no action
    campaign = Campaign.objects.get()
    assert not BlocklistEntry.objects.exists()
    client.post(f"/console/campaigns/{campaign.pk}/blocklist")
    entry = BlocklistEntry.objects.get()
    assert (entry.domain, entry.automatic, entry.added_by) == ("example.net", False, "sec@example.com")
    assert "example.net" in page(client, "/console/blocklist")

    client.post(f"/console/campaigns/{campaign.pk}/status", {"status": "contained"})
    assert Campaign.objects.get().status == "contained"
    client.post(f"/console/campaigns/{campaign.pk}/status", {"status": "nonsense"})
    assert Campaign.objects.get().status == "contained"
    client.post(f"/console/campaigns/{campaign.pk}/status", {"status": "closed"})
    assert Campaign.objects.get().status == "closed"

    stix = client.get(f"/console/campaigns/{campaign.pk}/stix")
    assert stix.status_code == 200
    assert stix["Content-Type"].startswith("application/stix+json")
    assert "attachment" in stix["Content-Disposition"]
    assert any(o["type"] == "campaign" for o in json.loads(stix.content)["objects"])

    kinds = list(CampaignEvent.objects.filter(campaign=campaign).values_list("kind", flat=True))
    assert kinds == ["created", "reported", "blocklisted", "status", "status", "stix"]
    actions = set(Event.objects.filter(actor=admin).values_list("action", flat=True))
    assert {Action.CAMPAIGN_BLOCKLISTED, Action.CAMPAIGN_STATUS_CHANGED, Action.CAMPAIGN_STIX_EXPORTED} <= actions


def test_warn_all_staff_asks_for_confirmation_then_queues_once(client, admin, configure):
    for n in range(3):
        services.add_employee(email=f"p{n}@example.com", name=f"P {n}", phone=f"+44770090010{n}")
    intake.submit(PHISH, channel="api", reporter=intake.reporter_by_phone("+12025550100"))
    campaign = Campaign.objects.get()
    confirm = page(client, f"/console/campaigns/{campaign.pk}/warn")
    assert "<strong>4</strong> active employees" in confirm
    assert "twilio-sso[.]com" in confirm
    assert not Broadcast.objects.exists()  # looking is not sending
    client.post(f"/console/campaigns/{campaign.pk}/warn")  # no confirmation: shows the page again
    assert not Broadcast.objects.exists()
    client.post(f"/console/campaigns/{campaign.pk}/warn", {"confirm": "yes"})
    client.post(f"/console/campaigns/{campaign.pk}/warn", {"confirm": "yes"})  # a double click
    assert Broadcast.objects.count() == 1
    assert OutboundMessage.objects.count() == 4
    assert "already been warned" in page(client, f"/console/campaigns/{campaign.pk}")
    assert Event.objects.filter(action=Action.CAMPAIGN_WARNED, actor=admin).count() == 1


def test_blocklist_page_shows_sources_urls_and_removes_report_entries(client, admin):
    sam = services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    alert = LookalikeAlert.objects.create(domain="twilio-okta.com", registrable="twilio-okta.com", brand="Twilio")
    text = page(client, "/console/blocklist")
    assert "/api/blocklists/rpz" in text
    assert "/api/blocklists/hosts" in text
    assert "/api/blocklists/domains" in text
    assert f"alert {alert.pk}" in text
    assert "report" in text
    entry = BlocklistEntry.objects.get()
    client.post(f"/console/blocklist/{entry.pk}/remove")
    assert BlocklistEntry.objects.get().removed_at is not None
    text = page(client, "/console/blocklist")
    assert '<td class="mono">twilio-sso.com' not in text
    assert '<td class="mono">twilio-okta.com' in text
    assert Event.objects.filter(action=Action.BLOCKLIST_ENTRY_REMOVED).count() == 1
