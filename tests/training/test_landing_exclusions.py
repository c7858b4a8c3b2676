"""Simulation hosts are never blocklisted and never raise CT alerts or lookalike verdicts, even when they imitate
a brand: ``[training] simulation_host``'s registrable domain (config.simulation_domain) is a partner of every
brand in the matcher (detection), is left out of the published blocklists and refused by "add to blocklist"
(reports), and never becomes a CT alert (watch) — while a host one letter away still does, each time."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from smishguard import config
from smishguard.detection import services as detection
from smishguard.engine.sms.verdict import verdict
from smishguard.reports import blocklists, response
from smishguard.reports.errors import NothingToBlock
from smishguard.reports.models import BlocklistEntry, Campaign
from smishguard.watch.models import LookalikeAlert

pytestmark = pytest.mark.django_db

SIM_HOST = "login.twilio-sso-check.com"  # the drills' host, imitating the Twilio brand on purpose
SIM_DOMAIN = "twilio-sso-check.com"
OTHER = "twilio-sso-checks.com"  # a real lookalike one letter away
SHARED_CT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ct"


@pytest.fixture
def drills(settings):
    detection.save_brand(name="Twilio", domains=["twilio.com"])

    def use(host: str = SIM_HOST) -> None:
        smishguard = settings.SMISHGUARD
        settings.SMISHGUARD = dataclasses.replace(
            smishguard, training=dataclasses.replace(smishguard.training, simulation_host=host)
        )

    use()
    return use


def test_the_simulation_domain_is_the_registrable_domain_of_the_host(settings) -> None:
    base = settings.SMISHGUARD

    def of(host: str, origin: str = "https://smishguard.example.com") -> str:
        training = dataclasses.replace(base.training, simulation_host=host)
        return config.simulation_domain(dataclasses.replace(base, origin=origin, training=training))

    assert of(SIM_HOST) == SIM_DOMAIN
    assert of("secure.acme-login.co.uk:8443") == "acme-login.co.uk"
    assert of("") == "example.com", "no simulation host: the links are on the origin's host"
    assert of("", origin="http://localhost:8000") == ""
    assert of("127.0.0.1:9000") == ""


def test_the_simulation_host_is_never_a_lookalike_verdict(drills) -> None:
    matcher = detection.current_matcher()
    for host in (SIM_HOST, SIM_DOMAIN, "x." + SIM_DOMAIN):
        result = matcher.check(host)
        assert result.verdict == "partner", (host, result)
    assert matcher.check(OTHER).verdict == "lookalike"
    text = verdict(f"Twilio IT: your password expires today, keep it at https://{SIM_HOST}/s/abc", matcher)
    assert [d.verdict for d in text.domains] == ["partner"]
    # The brands as configured (exports) are untouched; the matcher's own copy carries the partner.
    assert detection.engine_brands()[0].partners == ()
    assert SIM_DOMAIN in detection.matcher_brands()[0].partners
    # A new simulation host is picked up without a brand change.
    drills("drill.twilio-login-check.com")
    assert detection.current_matcher().check("drill.twilio-login-check.com").verdict == "partner"
    assert detection.current_matcher().check(SIM_HOST).verdict == "lookalike", "the old one is not excluded now"


def test_the_scan_api_gives_no_lookalike_for_the_simulation_host(drills, client) -> None:
    from smishguard.accounts import tokens

    _row, token = tokens.issue(name="scanner", scopes=["scan"])
    body = {"text": f"Your Twilio password expires today: https://{SIM_HOST}/s/abc"}
    answer = client.post(
        "/api/scan", data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert answer.status_code == 200, answer.content
    assert [d["verdict"] for d in answer.json()["domains"]] == ["partner"]


def test_the_simulation_host_never_reaches_a_blocklist(drills) -> None:
    campaign = Campaign.objects.create(brand="Twilio", domains=[SIM_DOMAIN, OTHER])
    response.add_to_blocklist(campaign)
    assert list(BlocklistEntry.objects.values_list("domain", flat=True)) == [OTHER]
    # Even a row put there by hand, and a CT alert for it, are left out of what is published.
    now = timezone.now()
    BlocklistEntry.objects.create(domain=SIM_DOMAIN, brand="Twilio", added_at=now)
    LookalikeAlert.objects.create(
        domain=SIM_HOST, registrable=SIM_DOMAIN, brand="Twilio", first_seen=now, last_seen=now
    )
    lists = blocklists.build()
    assert [item.ascii for item in lists.entries] == [OTHER]
    for text in (lists.rpz, lists.hosts, lists.domains):
        assert SIM_DOMAIN not in text
        assert OTHER in text
    only_drill = Campaign.objects.create(brand="Twilio", domains=[SIM_DOMAIN])
    with pytest.raises(NothingToBlock):
        response.add_to_blocklist(only_drill)


def test_the_simulation_host_never_raises_a_ct_alert(drills, settings, capsys, monkeypatch) -> None:
    """The real certstream example (access.smm-cheap.com, a lookalike of "SMM Cheap"): with the drills on that
    host no alert, from the database's brands or from --brand ones; on another host, the alert as before."""
    import smishguard.clitools
    from smishguard.cli import main

    monkeypatch.setattr(smishguard.clitools, "_django_ready", True)
    detection.save_brand(name="SMM Cheap", domains=["smmcheap.com"])
    line = json.dumps(json.loads((SHARED_CT / "certstream_example_calidog.json").read_text()))

    def replay(*extra: str) -> list[str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(line + "\n"))
        code = main(["watch", "ct", "--stats-interval", "0", "--no-live", "--replay", "-", "--json", *extra])
        assert code == 0, capsys.readouterr().err
        return list(LookalikeAlert.objects.values_list("registrable", flat=True))

    drills("drills.smm-cheap.com")
    assert replay() == []
    assert replay("--brand", "SMM Cheap=smmcheap.com") == [], "extra brands too: watch leaves the domain out"
    drills(SIM_HOST)
    assert replay() == ["smm-cheap.com"]
