"""Campaigns: reports grouped by the registrable domains they link to and by near-identical text once names,
links and numbers are normalised; unrelated reports apart."""

from __future__ import annotations

import pytest

from smishguard.accounts import services
from smishguard.detection import services as detection
from smishguard.reports import campaigns, intake
from smishguard.reports.models import Campaign, Report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def setup(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])
    for n, name in enumerate(["Sam Second", "Alex Doe", "Priya Patel"]):
        services.add_employee(email=f"e{n}@example.com", name=name, phone=f"+4477009000{n:02d}")


def report(text: str, phone: str = "+447700900000") -> Report:
    return intake.submit(text, channel="api", reporter=intake.reporter_by_phone(phone))


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("Hi Sam, reset at https://x.com/a now", {"sam"}, "hi <name> reset at <url> now"),
        ("Hi Sam Second, code 123-456", {"sam", "second"}, "hi <name> code <n>"),
        ("Mail it@corp.example.com today 10:30", set(), "mail <email> today <n>"),
        ("URGENT!!! Call   me", set(), "urgent call me"),
    ],
)
def test_normalise(text, names, expected):
    links = [w for w in text.split() if w.startswith("https://")]
    assert campaigns.normalise(text, link_texts=links, names=frozenset(names)) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("your account is locked sign in at <url> today", "your account is locked sign in at <url> today", True),
        ("your account is locked sign in at <url> today", "your account was locked sign in at <url> today", True),
        ("your account is locked sign in at <url> today", "lunch moved to <n> see you in the canteen", False),
        ("see <url> now", "see <url> now", False),  # too short to say anything
    ],
)
def test_similar(a, b, same):
    assert campaigns.similar(a, b) is same


def test_same_domain_same_campaign_even_with_different_wording():
    first = report("IT: your Twilio password expires today, keep it at https://twilio-sso.com/keep")
    second = report("Twilio HR: new rota is posted, see https://login.twilio-sso.com/rota", "+447700900001")
    assert first.campaign_id == second.campaign_id
    campaign = Campaign.objects.get()
    assert campaign.domains == ["twilio-sso.com"]
    assert campaign.report_count == 2
    assert campaign.brand == "Twilio"
    assert campaign.first_seen == first.created_at
    assert campaign.last_seen == second.created_at


def test_near_identical_texts_with_different_names_and_links_same_campaign():
    a = report("Hi Sam, your VPN access ends tonight. Confirm your login at https://vpn-renew.example-one.net/s1 now")
    b = report(
        "Hi Alex, your VPN access ends tonight. Confirm your login at http://okta-check.example-two.org/x9 now",
        "+447700900001",
    )
    assert a.domains != b.domains  # nothing in common but the wording
    assert a.fingerprint == b.fingerprint
    assert a.campaign_id == b.campaign_id
    assert sorted(Campaign.objects.get().domains) == sorted(a.domains + b.domains)


def test_unrelated_reports_are_different_campaigns():
    a = report("IT: your Twilio password expires today, keep it at https://twilio-sso.com/keep")
    b = report("Lunch is moved to 1pm tomorrow, see you in the canteen with the slides")
    c = report("Your parcel is held at the depot, pay the fee at https://parcel-fee.example.net/p")
    assert len({a.campaign_id, b.campaign_id, c.campaign_id}) == 3


def test_shorteners_and_official_domains_do_not_join_campaigns():
    a = report("Parcel held: pay the customs fee at bit.ly/3abc to get it today")
    b = report("Team offsite agenda is on https://www.twilio.com/blog/offsite and bit.ly/zz9 too")
    assert a.domains == []
    assert b.domains == []
    assert a.campaign_id != b.campaign_id


def test_a_closed_campaign_takes_no_new_reports():
    first = report("IT: your Twilio password expires today, keep it at https://twilio-sso.com/keep")
    Campaign.objects.filter(pk=first.campaign_id).update(status="closed")
    again = report("IT: your Twilio password expires today, keep it at https://twilio-sso.com/keep")
    assert again.campaign_id != first.campaign_id


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("benign", "smishing", "smishing"), ("spam", "benign", "spam"), ("smishing", "spam", "smishing")],
)
def test_campaign_verdict_is_the_worst_of_its_reports(a, b, expected):
    assert campaigns.worst(a, b) == expected
    assert campaigns.worst(b, a) == expected
