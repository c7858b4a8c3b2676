"""The blocklists (RPZ accepted by named-checkzone, hosts, plain list; never an official domain; CT lookalikes
included unless marked false positive; written to files on every change) and STIX 2.1 bundles that
stix2-validator accepts."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest
from stix2validator import ValidationOptions, validate_string

from smishguard.accounts import services, tokens
from smishguard.detection import services as detection
from smishguard.reports import blocklists, intake, response, stix
from smishguard.reports.errors import NothingToBlock
from smishguard.reports.models import BlocklistEntry, Campaign
from smishguard.watch.models import LookalikeAlert

pytestmark = pytest.mark.django_db

NAMED_CHECKZONE = "/usr/bin/named-checkzone"
PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


@pytest.fixture
def sam(db):
    return services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")


@pytest.fixture
def lists_dir(settings, tmp_path):
    rules = dataclasses.replace(settings.SMISHGUARD.response, blocklist_dir=str(tmp_path / "lists"))
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, response=rules)
    return tmp_path / "lists"


def ct_alert(domain: str, registrable: str | None = None, status: str = "open") -> LookalikeAlert:
    return LookalikeAlert.objects.create(
        domain=domain, registrable=registrable or domain, brand="Twilio", techniques=["keyword"], status=status
    )


def names() -> list[str]:
    return blocklists.build().domains.split()


def test_reports_and_ct_lookalikes_are_listed_but_not_false_positives(sam):
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    ct_alert("login.twilio-okta.com", "twilio-okta.com")
    ct_alert("twilio-help.net")
    ct_alert("twilio-careers.com", status="false_positive")
    assert names() == ["twilio-help.net", "twilio-okta.com", "twilio-sso.com"]
    entries = {e.ascii: e for e in blocklists.build().entries}
    assert entries["twilio-sso.com"].sources == ("report",)
    assert entries["twilio-okta.com"].sources == ("ct",)


@pytest.mark.parametrize(
    "official",
    ["twilio.com", "www.twilio.com", "com"],
)
def test_an_official_domain_is_never_listed(official):
    # whatever put it there: a CT alert, a report entry, or a brand added after the fact
    ct_alert(official)
    BlocklistEntry.objects.create(domain=official, brand="Twilio")
    ct_alert("twilio-sso.com")
    assert official not in names()
    assert names() == ["twilio-sso.com"]
    assert official in blocklists.build().skipped_official or official == "com"


def test_a_brand_added_later_takes_its_domains_off_the_lists():
    ct_alert("acme-sso.com")
    assert "acme-sso.com" in names()
    detection.save_brand(name="Acme SSO", domains=["acme-sso.com"])
    assert "acme-sso.com" not in names()


def test_analyst_cannot_blocklist_an_official_domain(sam):
    report = intake.submit(
        "Team docs: https://www.twilio.com/docs and the wiki", channel="portal", reporter=intake.reporter_for(sam)
    )
    with pytest.raises(NothingToBlock):
        response.add_to_blocklist(report.campaign, ["twilio.com"], actor=sam)
    assert not BlocklistEntry.objects.exists()


def test_idn_lookalikes_are_listed_in_their_ascii_form():
    ct_alert("twílio-sso.com")
    assert names() == ["xn--twlio-sso-h5a.com"]


def test_the_rpz_zone_is_accepted_by_named_checkzone(tmp_path, sam):
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    ct_alert("twilio-okta.com")
    ct_alert("twílio-sso.com")
    lists = blocklists.build()
    zone = tmp_path / "smishguard.rpz"
    zone.write_text(lists.rpz)
    result = subprocess.run(
        [NAMED_CHECKZONE, "-k", "fail", "-i", "local", lists.zone, str(zone)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("OK")
    assert f"loaded serial {lists.serial}" in result.stdout
    for name in ("twilio-sso.com", "twilio-okta.com", "xn--twlio-sso-h5a.com"):
        assert f"\n{name} CNAME .\n" in lists.rpz
        assert f"\n*.{name} CNAME .\n" in lists.rpz
    assert "0.0.0.0 twilio-sso.com\n" in lists.hosts


def test_the_serial_moves_only_when_the_list_changes():
    ct_alert("twilio-sso.com")
    first = blocklists.build().serial
    assert blocklists.build().serial == first
    ct_alert("twilio-okta.com")
    assert blocklists.build().serial > first


def test_files_are_written_on_every_change(sam, lists_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    assert (lists_dir / "smishguard-domains.txt").read_text() == "twilio-sso.com\n"
    assert "*.twilio-sso.com CNAME ." in (lists_dir / "smishguard.rpz").read_text()
    assert "0.0.0.0 twilio-sso.com" in (lists_dir / "smishguard.hosts").read_text()
    with django_capture_on_commit_callbacks(execute=True):
        alert = ct_alert("twilio-okta.com")  # the CT watcher raised one
    assert (lists_dir / "smishguard-domains.txt").read_text() == "twilio-okta.com\ntwilio-sso.com\n"
    with django_capture_on_commit_callbacks(execute=True):
        alert.status = "false_positive"  # an analyst marked it
        alert.save(update_fields=["status"])
    assert (lists_dir / "smishguard-domains.txt").read_text() == "twilio-sso.com\n"
    with django_capture_on_commit_callbacks(execute=True):
        response.remove_from_blocklist(BlocklistEntry.objects.get(), actor=sam)
    assert (lists_dir / "smishguard-domains.txt").read_text() == ""


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("rpz", "*.twilio-sso.com CNAME ."), ("hosts", "0.0.0.0 twilio-sso.com"), ("domains", "twilio-sso.com")],
)
def test_lists_are_served_with_a_blocklists_token(client, kind, expected):
    ct_alert("twilio-sso.com")
    _, secret = tokens.issue("resolver", scopes=["blocklists"])
    _, wrong = tokens.issue("reporter", scopes=["reports"])
    url = f"/api/blocklists/{kind}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert client.get(url + "?token=sg_nope").status_code == 401
    for response_ in (
        client.get(url, headers={"Authorization": f"Bearer {secret}"}),
        client.get(f"{url}?token={secret}"),
    ):
        assert response_.status_code == 200
        assert response_["Content-Type"].startswith("text/plain")
        assert expected in response_.content.decode()


# --- STIX ---------------------------------------------------------------------------------------------------------


def validate(text: str) -> None:
    results = validate_string(text, ValidationOptions(version="2.1"))
    errors = [str(e) for r in getattr(results, "results", [results]) for e in r.errors]
    assert results.is_valid, errors
    assert errors == []


def test_the_stix_bundle_of_a_campaign_validates(sam):
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    intake.submit(PHISH.replace("/login", "/reset"), channel="portal", reporter=intake.reporter_for(sam))
    campaign = Campaign.objects.get()
    text = stix.bundle_json([campaign])
    validate(text)
    bundle = json.loads(text)
    by_type: dict[str, list] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["campaign"]) == 1
    patterns = sorted(i["pattern"] for i in by_type["indicator"])
    assert "[domain-name:value = 'twilio-sso.com']" in patterns
    assert "[url:value = 'https://twilio-sso.com/login']" in patterns
    assert "[url:value = 'https://twilio-sso.com/reset']" in patterns
    assert {r["relationship_type"] for r in by_type["relationship"]} == {"indicates"}
    assert len(by_type["sighting"]) == len(by_type["indicator"])
    assert all(s["where_sighted_refs"] == [by_type["identity"][0]["id"]] for s in by_type["sighting"])
    assert "twilio.com'" not in text  # never an official domain
    assert json.loads(stix.bundle_json([campaign]))["objects"][1:] == bundle["objects"][1:]  # stable ids


def test_the_stix_of_every_campaign_is_served_and_validates(client, sam):
    intake.submit(PHISH, channel="sms", reporter=intake.reporter_by_phone(sam.phone))
    intake.submit(
        "Hi Sam, your VPN access ends tonight. Confirm at https://vpn-renew.example-one.net/s1 now",
        channel="sms",
        reporter=intake.reporter_by_phone(sam.phone),
    )
    _, secret = tokens.issue("isac", scopes=["blocklists"])
    auth = {"Authorization": f"Bearer {secret}"}
    everything = client.get("/api/stix/campaigns", headers=auth)
    assert everything.status_code == 200
    validate(everything.content.decode())
    one = Campaign.objects.first()
    single = client.get(f"/api/stix/campaigns/{one.pk}", headers=auth)
    assert single.status_code == 200
    validate(single.content.decode())
    assert client.get("/api/stix/campaigns/999999", headers=auth).status_code == 404
    assert client.get(f"/api/stix/campaigns/{one.pk}").status_code == 401
