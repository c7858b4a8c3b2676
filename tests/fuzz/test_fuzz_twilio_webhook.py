"""Property test over the Twilio inbound-SMS webhook's form: any fields and values, signed as Twilio signs them
(HMAC-SHA1 over the public URL and the sorted parameters) or not, get a 4xx or a 200 with TwiML, never a 5xx; a
refused request writes no message and no report, an accepted one its message with the reply it was answered."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from fake_twilio import twilio_signature
from fuzzing import FUZZ, rolled_back
from hypothesis import example, given, settings
from hypothesis import strategies as st
from twilio_fixtures import PUBLIC_URL, configure, fake

from smishguard.messaging.models import InboundMessage
from smishguard.reports.models import Report

pytestmark = [pytest.mark.once, pytest.mark.django_db]
__all__ = ["configure", "fake"]  # fixtures, used by name

EXAMPLES = 50  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)
PATH = "/hooks/twilio/sms"
FIELDS = ("AccountSid", "ApiVersion", "Body", "From", "MessageSid", "NumMedia", "SmsSid", "To", "MediaUrl0")
BASE = {
    "AccountSid": "AC" + "0" * 31 + "1",
    "ApiVersion": "2010-04-01",
    "Body": "IT: your Okta password expires today. Keep it at https://twilio-okta.com/login",
    "From": "+447700900001",
    "MessageSid": "SM" + "0" * 31 + "1",
    "NumMedia": "0",
    "To": "+15005550006",
}
values = st.text(max_size=80) | st.text(max_size=2000) | st.sampled_from(["", " ", "\x00", "+447700900001", "SM1"])
forms = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=20), values, max_size=10) | st.builds(
    lambda changes, dropped: {k: v for k, v in {**BASE, **changes}.items() if k not in dropped},
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
    st.sets(st.sampled_from(FIELDS), max_size=2),
)


def _twiml_reply(response) -> str | None:
    assert response["Content-Type"].startswith("application/xml"), response.content[:200]
    root = ET.fromstring(response.content)  # noqa: S314 - our own TwiML
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return (messages[0].text or "") if messages else None


@given(form=forms, signing=st.sampled_from(["twilio", "none", "wrong"]))
@example(form=BASE, signing="twilio")
@example(form={**BASE, "Body": "x" * 1700}, signing="twilio")
@example(form={**BASE, "From": "\x00"}, signing="twilio")
@settings(FUZZ, max_examples=EXAMPLES)
def test_any_form_gets_a_4xx_or_twiml_and_never_half_a_report(client, configure, fake, form, signing):
    headers = {}
    if signing == "twilio":
        headers["X-Twilio-Signature"] = twilio_signature(fake.auth_token, PUBLIC_URL + PATH, form)
    elif signing == "wrong":
        headers["X-Twilio-Signature"] = twilio_signature("not-the-token", PUBLIC_URL + PATH, form)
    with rolled_back():
        messages, reports = InboundMessage.objects.count(), Report.objects.count()
        response = client.post(
            PATH, data=urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers
        )
        assert response.status_code < 500, response.content[:300]
        if form == BASE and signing == "twilio":
            assert response.status_code == 200  # a real forwarded text is answered
        if response.status_code != 200:
            assert 400 <= response.status_code < 500
            assert InboundMessage.objects.count() == messages
            assert Report.objects.count() == reports
            return
        assert signing == "twilio"
        reply = _twiml_reply(response)
        new = list(InboundMessage.objects.order_by("pk")[messages:])
        assert len(new) <= 1
        if new:
            assert new[0].reply == (reply or "")  # the row holds the answer that was sent: written whole
        assert Report.objects.count() - reports <= 1
