"""Reporting closes the loop: through the real, signed Twilio webhook, a drill forwarded to the reporting number
(or REPORT texted to the simulation sender) is claimed by training before the report intake — a `reported` event
with its time to report and a friendly reply — and never becomes a report, a campaign, a blocklist entry or an
all-staff warning (the real worker runs and the Twilio-compatible server receives nothing; the same policy warns
everyone about a real phishing text, through the official twilio SDK).  STOP and START to the simulation sender
opt a phone out of drills and back in (audited); STOP to the reporting number is not a drill's business.
"""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone
from fake_twilio import twilio_signature
from landing_fixtures import make_recipient, make_simulation
from twilio_fixtures import PUBLIC_URL, SENDERS, configure, fake, make_employees, work  # noqa: F401

from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.messaging import inbound
from smishguard.messaging.models import Broadcast, OutboundMessage
from smishguard.reports.models import BlocklistEntry, Campaign, Report
from smishguard.training import landing_hooks
from smishguard.training.models import SimulationEvent, SimulationOptOut

pytestmark = pytest.mark.django_db

PATH = "/hooks/twilio/sms"
REPORTING = SENDERS[0]
SIMULATION_SENDER = SENDERS[1]
SIM_HOST = "twilio-sso-check.com"  # imitates the brand, as a good drill does
PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"
_sids = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def drill(settings, configure):
    """Twilio at the fake server; the Twilio brand; a response policy that warns everyone on one known report;
    simulations on their own host and sender."""
    detection.save_brand(name="Twilio", domains=["twilio.com"])
    smishguard = settings.SMISHGUARD
    settings.SMISHGUARD = dataclasses.replace(
        smishguard,
        response=dataclasses.replace(smishguard.response, warn_threshold=1),
        training=dataclasses.replace(
            smishguard.training, simulation_host=SIM_HOST, simulation_sender=SIMULATION_SENDER
        ),
    )


def text(fake, body: str, *, sender: str, to: str = REPORTING):
    data = {
        "AccountSid": fake.account_sid,
        "Body": body,
        "From": sender,
        "MessageSid": f"SM{next(_sids):032x}",
        "To": to,
    }
    signature = twilio_signature(fake.auth_token, PUBLIC_URL + PATH, data)
    response = text.client.post(  # type: ignore[attr-defined]
        PATH, data=urlencode(data), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert response.status_code == 200
    messages = ET.fromstring(response.content).findall("Message")  # noqa: S314 - our own TwiML
    return messages[0].text if messages else None


@pytest.fixture(autouse=True)
def _client(client):
    text.client = client  # type: ignore[attr-defined]


def drill_text(recipient) -> str:
    return f"Twilio IT: Carl, your password expires today. Keep it now at https://{SIM_HOST}/s/{recipient.rid}"


def nothing_reached_reports(fake) -> None:
    assert Report.objects.count() == 0
    assert Campaign.objects.count() == 0
    assert BlocklistEntry.objects.count() == 0
    assert Broadcast.objects.count() == 0
    assert OutboundMessage.objects.count() == 0
    assert fake.messages == []


def test_training_asks_before_the_report_intake() -> None:
    order = {name: position for position, name in inbound.registered()}
    assert order["training"] < order["reports"] == inbound.LAST


def test_the_same_policy_warns_everyone_about_a_real_phishing_text(fake, make_employees, work) -> None:
    """The control: what a forwarded drill would set off if reports ever saw it."""
    [sam, *_others] = make_employees(3)
    reply = text(fake, PHISH, sender=sam.phone)
    assert "phishing" in reply
    assert Report.objects.count() == 1
    assert BlocklistEntry.objects.filter(domain="twilio-sso.com").exists()
    assert Broadcast.objects.count() == 1
    work()
    assert len(fake.messages) == 3, "the all-staff warning went out through the official SDK"


def test_a_forwarded_drill_is_reported_with_its_time_and_never_reaches_reports(fake, make_employees, work) -> None:
    make_employees(3)  # staff a warning would go to
    sent = timezone.now() - timedelta(minutes=12)
    recipient = make_recipient(sent_at=sent)
    with time_machine.travel(sent + timedelta(minutes=12), tick=False):
        reply = text(fake, "Fwd: " + drill_text(recipient), sender=recipient.employee.phone)
    assert reply.startswith("Well spotted: that was a drill")
    assert "12 minutes after it arrived" in reply
    recipient.refresh_from_db()
    assert recipient.reported_at - recipient.sent_at == timedelta(minutes=12)
    event = SimulationEvent.objects.get(recipient=recipient)
    assert (event.kind, event.via) == ("reported", "sms-forward")
    work()
    nothing_reached_reports(fake)


def test_a_colleague_forwarding_it_counts_and_the_own_link_is_preferred(fake) -> None:
    simulation = make_simulation()
    carl = make_recipient(simulation)
    dana = make_recipient(simulation, email="dana@example.com", name="Dana Desk", phone="+14155550104")
    both = f"{drill_text(carl)}\nand mine: https://{SIM_HOST}/s/{dana.rid}"
    assert text(fake, both, sender=dana.employee.phone).startswith("Well spotted")
    dana.refresh_from_db()
    carl.refresh_from_db()
    assert dana.reported_at is not None
    assert carl.reported_at is None
    # From a phone that matches nobody: the first known link in the text.
    assert text(fake, drill_text(carl), sender="+12025550199").startswith("Well spotted")
    carl.refresh_from_db()
    assert carl.reported_at is not None
    nothing_reached_reports(fake)


def test_a_text_handed_over_again_counts_once() -> None:
    recipient = make_recipient()
    incoming = inbound.InboundText(recipient.employee.phone, REPORTING, drill_text(recipient), "SM" + "1" * 32)
    first = landing_hooks.handle(incoming)
    again = landing_hooks.handle(incoming)
    assert first.startswith("Well spotted")
    assert again.startswith("Well spotted")
    assert SimulationEvent.objects.filter(recipient=recipient, kind="reported").count() == 1


def test_a_drill_link_cut_short_is_still_kept_from_reports(fake) -> None:
    make_recipient()
    reply = text(fake, f"is this real? https://{SIM_HOST}/s/", sender="+14155550103")
    assert reply == landing_hooks.CUT_SHORT
    assert SimulationEvent.objects.count() == 0
    nothing_reached_reports(fake)


def test_report_to_the_simulation_sender_counts_as_reported(fake) -> None:
    earlier = make_recipient(make_simulation(name="older"), sent_at=timezone.now() - timedelta(days=30))
    latest = make_recipient(make_simulation(name="newer"), employee=earlier.employee)
    reply = text(fake, " report ", sender=latest.employee.phone, to=SIMULATION_SENDER)
    assert reply.startswith("Well spotted")
    latest.refresh_from_db()
    earlier.refresh_from_db()
    assert latest.reported_at is not None
    assert earlier.reported_at is None
    assert SimulationEvent.objects.get(recipient=latest).via == "sms-reply"
    # From a phone no drill went to: claimed, nothing counted, still not a report.
    assert text(fake, "REPORT", sender="+12025550199", to=SIMULATION_SENDER) == landing_hooks.NOT_FOUND
    # Anything else to the simulation sender: what the number is for.
    about = text(fake, "who is this?", sender="+12025550199", to=SIMULATION_SENDER)
    assert about.startswith("This number sends the security team's practice texts")
    assert REPORTING in about
    nothing_reached_reports(fake)


def test_stop_and_start_to_the_simulation_sender_opt_out_and_back_in(fake) -> None:
    phone = "+14155550103"
    assert text(fake, "STOP", sender=phone, to=SIMULATION_SENDER) == landing_hooks.OPTED_OUT
    assert SimulationOptOut.objects.filter(phone=phone).exists()
    out = Event.objects.get(action="training:simulation:opted_out")
    assert out.detail["phone"] == phone
    assert text(fake, "stop", sender=phone, to=SIMULATION_SENDER) == landing_hooks.OPTED_OUT
    assert Event.objects.filter(action="training:simulation:opted_out").count() == 1, "once, not per STOP"
    assert text(fake, "Start", sender=phone, to=SIMULATION_SENDER) == landing_hooks.OPTED_IN
    assert not SimulationOptOut.objects.exists()
    assert Event.objects.filter(action="training:simulation:opted_in").count() == 1
    nothing_reached_reports(fake)


def test_stop_to_the_reporting_number_is_not_a_drill_opt_out(fake) -> None:
    text(fake, "STOP", sender="+14155550103", to=REPORTING)
    assert not SimulationOptOut.objects.exists()
    assert Report.objects.count() == 1, "the reporting number's texts go on to the report intake"
