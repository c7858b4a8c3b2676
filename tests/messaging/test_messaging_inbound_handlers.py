"""The inbound handler registry: handlers are asked in order, the first to answer claims the text, reports is last.

Real parts throughout: the signed webhook, the registry and the real reports handler (registered by
``ReportsConfig.ready()``); the handlers added here are small real handlers, removed after each test.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from fake_twilio import twilio_signature

from smishguard.messaging import inbound
from smishguard.messaging.models import InboundMessage
from smishguard.reports.models import Report

PUBLIC_URL = "https://smishguard.example.com"
PATH = "/hooks/twilio/sms"
SIMULATION = "Training: your parcel is waiting, confirm at https://sim-parcel.example/t/abc123"
SUSPICIOUS = "IT: your Okta password expires today. Keep it at https://twilio-okta.com/login"
CLAIMED = "That was a training exercise: well spotted."


def params(n: int, body: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 31 + "1",
        "Body": body,
        "From": "+447700900001",
        "MessageSid": f"SM{n:032x}",
        "To": "+15005550006",
    }


def post(client, fake, data: dict[str, str]):
    signature = twilio_signature(fake.auth_token, PUBLIC_URL + PATH, data)
    return client.post(
        PATH,
        data=urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def reply_text(response) -> str | None:
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own TwiML
    messages = root.findall("Message")
    return messages[0].text if messages else None


@pytest.fixture
def register():
    """Register handlers for one test; they are removed afterwards, leaving the apps' own registrations."""
    added: list[str] = []

    def add(name: str, handler: inbound.Handler, *, order: int) -> None:
        inbound.register(name, handler, order=order)
        added.append(name)

    yield add
    for name in added:
        inbound.unregister(name)


def test_reports_registers_itself_as_the_last_handler() -> None:
    names = [name for _order, name in inbound.registered()]
    assert names[-1] == "reports"
    assert {name: order for order, name in inbound.registered()}["reports"] == inbound.LAST


@pytest.mark.django_db
def test_a_handler_before_reports_claims_the_text_and_reports_never_sees_it(client, configure, fake, register) -> None:
    seen: list[inbound.InboundText] = []

    def simulations(text: inbound.InboundText) -> str | None:
        seen.append(text)
        return CLAIMED if "sim-parcel.example" in text.body else None

    register("simulations", simulations, order=10)
    data = params(1, SIMULATION)
    response = post(client, fake, data)
    assert reply_text(response) == CLAIMED
    assert seen == [inbound.InboundText("+447700900001", "+15005550006", SIMULATION, data["MessageSid"])]
    assert Report.objects.count() == 0  # reports never saw it: no blocklisting, no staff warning
    assert InboundMessage.objects.get().reply == CLAIMED  # the text is still kept, with its answer


@pytest.mark.django_db
def test_a_handler_may_claim_a_text_without_a_reply(client, configure, fake, register) -> None:
    register("silent", lambda _text: "", order=10)
    response = post(client, fake, params(2, SIMULATION))
    assert reply_text(response) is None
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_with_no_handler_claiming_reports_gets_the_text_as_before(client, configure, fake, register) -> None:
    asked: list[str] = []

    def passes(text: inbound.InboundText) -> str | None:
        asked.append(text.message_sid)

    register("simulations", passes, order=10)
    data = params(3, SUSPICIOUS)
    response = post(client, fake, data)
    assert asked == [data["MessageSid"]]
    report = Report.objects.get(message_sid=data["MessageSid"])
    assert report.text == SUSPICIOUS
    assert reply_text(response) == report.reply
    assert report.verdict == "smishing"


@pytest.mark.django_db
def test_handlers_are_asked_in_order(client, configure, fake, register) -> None:
    asked: list[str] = []

    def handler(name: str, *, claim: bool = False) -> inbound.Handler:
        def ask(_text: inbound.InboundText) -> str | None:
            asked.append(name)
            return f"claimed by {name}" if claim else None

        return ask

    register("third", handler("third", claim=True), order=30)
    register("first", handler("first"), order=10)
    register("second", handler("second"), order=20)
    register("never", handler("never", claim=True), order=40)
    response = post(client, fake, params(4, SIMULATION))
    assert asked == ["first", "second", "third"]
    assert reply_text(response) == "claimed by third"
    assert Report.objects.count() == 0
    names = [name for _order, name in inbound.registered()]
    assert names == ["first", "second", "third", "never", "training", "reports"]  # training: a drill's replies


@pytest.mark.django_db
def test_a_handler_that_raises_does_not_lose_the_text(client, configure, fake, register, caplog) -> None:
    """A failing handler is logged and the next one is asked: the text reaches reports (see inbound.py: why)."""

    def broken(text: inbound.InboundText) -> str | None:
        raise RuntimeError("the simulation store is down")

    register("simulations", broken, order=10)
    data = params(5, SUSPICIOUS)
    with caplog.at_level(logging.ERROR, logger="smishguard.messaging"):
        response = post(client, fake, data)
    report = Report.objects.get(message_sid=data["MessageSid"])
    assert reply_text(response) == report.reply
    assert InboundMessage.objects.get().reply == report.reply
    [failure] = [r for r in caplog.records if r.exc_info]
    assert "simulations" in failure.getMessage()
    assert data["MessageSid"] in failure.getMessage()
    assert "okta" not in failure.getMessage().lower()  # the text itself is not logged


def test_only_one_handler_is_last_and_none_comes_after_it(register) -> None:
    with pytest.raises(ValueError, match="reports"):
        register("another-catch-all", lambda _text: None, order=inbound.LAST)
    with pytest.raises(ValueError, match="after"):
        register("too-late", lambda _text: None, order=inbound.LAST + 1)
    assert [name for _order, name in inbound.registered()] == ["training", "reports"]


@pytest.mark.django_db
def test_a_text_no_handler_finished_is_handled_again_by_the_recovery_pass(client, configure, fake, register) -> None:
    """The last handler fails (as when the database goes away mid-way) and none claimed the text: it is kept
    unfinished, and the recovery pass hands it over again once it can be handled: a report, made once."""
    from datetime import timedelta

    from django.utils import timezone

    from smishguard.reports import intake

    def down(_text: inbound.InboundText) -> str | None:
        raise RuntimeError("the reports store is down")

    handled = params(6, SUSPICIOUS)
    assert reply_text(post(client, fake, handled)) == Report.objects.get(message_sid=handled["MessageSid"]).reply
    inbound.register("reports", down, order=inbound.LAST)
    try:
        data = params(7, SUSPICIOUS)
        assert reply_text(post(client, fake, data)) == inbound.FALLBACK_REPLY
        unfinished = InboundMessage.objects.get(message_sid=data["MessageSid"])
        assert unfinished.handled_at is None
        assert not Report.objects.filter(message_sid=data["MessageSid"]).exists()
        later = timezone.now() + inbound.UNFINISHED_AFTER + timedelta(seconds=1)
        assert inbound.finish_unhandled(now=later) == 0  # the handler still fails: still unfinished
    finally:
        inbound.register("reports", intake.handle_inbound_text, order=inbound.LAST)
    assert inbound.finish_unhandled(now=timezone.now()) == 0  # too young: its webhook may still be at work
    assert inbound.finish_unhandled(now=later) == 1
    report = Report.objects.get(message_sid=data["MessageSid"])
    assert report.text == SUSPICIOUS
    assert InboundMessage.objects.get(message_sid=data["MessageSid"]).handled_at is not None
    assert InboundMessage.objects.get(message_sid=handled["MessageSid"]).handled_at is not None
    assert inbound.finish_unhandled(now=later) == 0  # nothing twice
    assert Report.objects.count() == 2
