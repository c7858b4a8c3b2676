"""Blocklist entries that came from Certificate Transparency can be removed too, and every entry says where it
came from (issue 11, item 9).  Removing one marks its alerts false positive (the blocklists already leave those
out), is audited, and asks for a fresh key touch like removing any other entry (issue 10)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from smishguard.accounts import services
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.reports import blocklists, intake
from smishguard.reports.models import BlocklistEntry
from smishguard.watch.models import LookalikeAlert

pytestmark = pytest.mark.django_db

PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


def ct_alert(domain: str, registrable: str | None = None) -> LookalikeAlert:
    return LookalikeAlert.objects.create(
        domain=domain,
        registrable=registrable or domain,
        brand="Twilio",
        techniques=["keyword"],
        log="Test log",
        entry_index=42,
        names=[domain],
    )


def row(text: str, domain: str) -> str:
    match = re.search(rf'<tr>\s*<td class="mono">{re.escape(domain)}.*?</tr>', text, re.S)
    assert match, domain
    return match.group(0)


def listed() -> list[str]:
    return blocklists.build().domains.split()


def test_each_entry_says_where_it_came_from_and_ct_entries_have_a_remove_button(client, admin):
    sam = services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    alert = ct_alert("login.twilio-okta.com", "twilio-okta.com")
    text = html.unescape(client.get("/console/blocklist").content.decode())

    ct_row = row(text, "twilio-okta.com")
    assert "Certificate Transparency" in ct_row
    assert f"alert {alert.pk}" in ct_row
    assert "login.twilio-okta.com" in ct_row  # the certificate name that raised it
    assert "Test log" in ct_row
    assert 'action="/console/blocklist/remove"' in ct_row
    assert 'value="twilio-okta.com"' in ct_row
    assert ">Remove<" in ct_row

    report_row = row(text, "twilio-sso.com")
    assert "reported texts" in report_row
    assert "response policy" in report_row or "sec@example.com" in report_row
    assert ">Remove<" in report_row
    assert "marks its alerts false positive" in text  # the page says what removing a CT entry does


def test_removing_a_ct_entry_marks_its_alerts_false_positive_and_is_audited(client, admin):
    first = ct_alert("login.twilio-okta.com", "twilio-okta.com")
    second = ct_alert("twilio-okta.com")
    ct_alert("twilio-help.net")
    assert listed() == ["twilio-help.net", "twilio-okta.com"]

    response = client.post("/console/blocklist/remove", {"domain": "twilio-okta.com"})

    assert response.status_code == 302
    assert listed() == ["twilio-help.net"]
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.status == LookalikeAlert.Status.FALSE_POSITIVE
        assert alert.status_changed_by == "sec@example.com"
    [removed] = Event.objects.filter(action=Action.BLOCKLIST_ENTRY_REMOVED)
    assert removed.actor == admin
    assert removed.subject_label == "twilio-okta.com"
    assert removed.detail["sources"] == ["ct"]
    assert sorted(removed.detail["alert_ids"]) == sorted([first.pk, second.pk])
    assert Event.objects.filter(action=Action.WATCH_ALERT_STATUS_CHANGED).count() == 2
    assert "Removed twilio-okta.com" in html.unescape(client.get("/console/blocklist").content.decode())


def test_removing_a_domain_on_both_lists_takes_it_off_both(client, admin):
    sam = services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    alert = ct_alert("twilio-sso.com")
    assert blocklists.build().entries[0].sources == ("ct", "report")

    client.post("/console/blocklist/remove", {"domain": "twilio-sso.com"})

    assert listed() == []
    assert BlocklistEntry.objects.get().removed_at is not None
    alert.refresh_from_db()
    assert alert.status == LookalikeAlert.Status.FALSE_POSITIVE
    [removed] = Event.objects.filter(action=Action.BLOCKLIST_ENTRY_REMOVED)
    assert removed.detail["sources"] == ["ct", "report"]


def test_removing_asks_for_a_fresh_key_touch(client, admin):
    alert = ct_alert("twilio-okta.com")
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post("/console/blocklist/remove", {"domain": "twilio-okta.com"})
    assert response.status_code == 403
    assert 'data-webauthn="stepup"' in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == LookalikeAlert.Status.OPEN
    assert not Event.objects.filter(action=Action.BLOCKLIST_ENTRY_REMOVED).exists()


@pytest.mark.parametrize("domain", ["", "not-listed.example", "x" * 300])
def test_removing_a_domain_that_is_not_listed_says_so(client, admin, domain):
    ct_alert("twilio-okta.com")
    response = client.post("/console/blocklist/remove", {"domain": domain}, follow=True)
    assert response.status_code == 200
    assert "is not on the blocklists" in html.unescape(response.content.decode())
    assert listed() == ["twilio-okta.com"]
    assert not Event.objects.filter(action=Action.BLOCKLIST_ENTRY_REMOVED).exists()
