"""The inbound SMS webhook: signatures, TwiML replies, replays, floods and bad input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from fake_twilio import twilio_signature

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.messaging import inbound
from smishguard.messaging.models import InboundMessage

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://smishguard.example.com"
PATH = "/hooks/twilio/sms"
SUSPICIOUS = "IT: your Okta password expires today. Keep it at https://twilio-okta.com/login"
# the reports handler (intake.handle_inbound_text) scans the text and answers with its verdict (tests/reports)
HANDLED = (
    "Thanks — this is a phishing text. Don't open the link or reply; delete it. The security team has your report."
)


def params(n: int = 1, **extra: str) -> dict[str, str]:
    values = {
        "AccountSid": "AC" + "0" * 31 + "1",
        "ApiVersion": "2010-04-01",
        "Body": SUSPICIOUS,
        "From": "+447700900001",
        "MessageSid": f"SM{n:032x}",
        "NumMedia": "0",
        "SmsSid": f"SM{n:032x}",
        "To": "+15005550006",
    }
    values.update(extra)
    return values


def post(client, fake, data: dict[str, str], *, signature: str | None = "sign", path: str = PATH, url=None):
    headers = {}
    if signature == "sign":
        signature = twilio_signature(fake.auth_token, url or PUBLIC_URL + path, data)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=urlencode(data), content_type="application/x-www-form-urlencoded", headers=headers)


def reply_text(response) -> str | None:
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own TwiML
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None


def test_signed_text_gets_a_twiml_reply(client, configure, fake) -> None:
    response = post(client, fake, params())
    assert response.status_code == 200
    assert reply_text(response) == HANDLED
    row = InboundMessage.objects.get()
    assert (row.message_sid, row.from_number, row.body, row.reply) == (
        params()["MessageSid"],
        "+447700900001",
        SUSPICIOUS,
        HANDLED,
    )


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==", "bad_signature"),
        ("other-token", "bad_signature"),
        ("wrong-url", "bad_signature"),
    ],
)
def test_unsigned_or_wrongly_signed_requests_are_refused(client, configure, fake, signature, reason) -> None:
    data = params()
    if signature == "other-token":
        signature = twilio_signature("another-accounts-token", PUBLIC_URL + PATH, data)
    elif signature == "wrong-url":
        signature = twilio_signature(fake.auth_token, "https://attacker.example" + PATH, data)
    response = post(client, fake, data, signature=signature)
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    event = Event.objects.get(action=Action.MESSAGING_WEBHOOK_REFUSED)
    assert event.detail["reason"] == reason
    assert event.detail["hook"] == "sms"


def test_a_signed_request_with_altered_parameters_is_refused(client, configure, fake) -> None:
    data = params()
    signature = twilio_signature(fake.auth_token, PUBLIC_URL + PATH, data)
    response = post(client, fake, {**data, "Body": "something else"}, signature=signature)
    assert response.status_code == 403


def test_signature_is_checked_against_the_public_url_not_the_host_header(client, configure, fake) -> None:
    # Signed for the internal address Django sees: refused, since Twilio signs the public URL.
    response = post(client, fake, params(), url="http://testserver" + PATH)
    assert response.status_code == 403


def test_without_a_configured_token_every_webhook_is_refused(client, configure, fake) -> None:
    configure(auth_token="")
    response = post(client, fake, params())
    assert response.status_code == 403
    assert Event.objects.get(action=Action.MESSAGING_WEBHOOK_REFUSED).detail["reason"] == "not_configured"


def test_a_replayed_message_sid_is_not_processed_twice(client, configure, fake) -> None:
    first = post(client, fake, params(7))
    replay = post(client, fake, params(7))
    assert reply_text(first) == HANDLED
    assert replay.status_code == 200
    assert reply_text(replay) is None  # no second reply SMS
    assert InboundMessage.objects.count() == 1


def test_a_flood_from_one_number_is_rate_limited_and_recorded(client, configure, fake) -> None:
    configure(inbound_limit=3, inbound_window_seconds=600)
    replies = [reply_text(post(client, fake, params(n))) for n in range(1, 7)]
    assert replies[:3] == [HANDLED] * 3
    assert replies[3] == inbound.FLOOD_REPLY  # one polite answer ...
    assert replies[4:] == [None, None]  # ... then silence, so a flood costs no texts
    assert InboundMessage.objects.count() == 6  # every text recorded, nothing lost
    assert InboundMessage.objects.filter(outcome="rate_limited").count() == 3
    [event] = Event.objects.filter(action=Action.MESSAGING_INBOUND_RATE_LIMITED)
    assert event.detail["from_number"] == "+447700900001"
    # Another number is not affected.
    other = post(client, fake, params(99, From="+447700900002"))
    assert reply_text(other) == HANDLED


def test_too_long_text_gets_a_polite_answer(client, configure, fake) -> None:
    response = post(client, fake, params(Body="x" * 1601))
    assert response.status_code == 200
    assert reply_text(response) == inbound.TOO_LONG_REPLY
    assert InboundMessage.objects.get().outcome == "too_long"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (params(MessageSid="", SmsSid=""), 400),
        (params(From=""), 400),
        (params(Body="a\x00b"), 400),
        (params(MessageSid="SM" + "1" * 100, SmsSid=""), 400),
    ],
)
def test_missing_or_binary_fields_are_400(client, configure, fake, data, status) -> None:
    response = post(client, fake, data)
    assert response.status_code == status
    assert InboundMessage.objects.count() == 0


def test_oversize_body_is_413_before_parsing(client, configure, fake) -> None:
    data = params(Padding="y" * 40_000)
    response = post(client, fake, data)
    assert response.status_code == 413
    assert InboundMessage.objects.count() == 0


def test_wrong_content_type_and_method(client, configure, fake) -> None:
    response = client.post(PATH, data=b'{"Body": "x"}', content_type="application/json")
    assert response.status_code == 415
    assert client.get(PATH).status_code == 405


def test_the_forwarded_text_reaches_the_reports_pipeline(client, configure, fake) -> None:
    """No stand-in for our own handler: the real reports handler stores the report and answers from its verdict."""
    from smishguard.reports.models import Report

    response = post(client, fake, params(3))
    assert response.status_code == 200
    report = Report.objects.get(message_sid=params(3)["MessageSid"])
    assert report.text == SUSPICIOUS
    assert reply_text(response) == report.reply
