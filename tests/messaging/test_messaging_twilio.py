"""messaging/twilio.py: the official SDK talking to the Twilio-compatible server, errors, signatures."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fake_twilio import FakeTwilio, twilio_signature
from waiting import wait_until

from smishguard.config import ConfigError, twilio_settings
from smishguard.messaging import twilio
from smishguard.messaging.errors import InvalidNumber, ProviderNotConfigured, ProviderRefused, ProviderUnavailable


def test_send_reaches_the_fake_server_with_basic_auth_and_twilio_parameters(configure, fake: FakeTwilio) -> None:
    sid = twilio.send_sms("+447700900123", "Hello — test", "https://cb.example.com/s?m=1")
    assert sid.startswith("SM")
    assert len(sid) == 34
    int(sid[2:], 16)
    [message] = fake.messages
    assert message["sid"] == sid
    assert message["to"] == "+447700900123"
    assert message["from"] == "+15005550006"
    assert message["body"] == "Hello — test"
    assert message["_callback"] == "https://cb.example.com/s?m=1"
    [(_, method, path, status)] = fake.requests
    assert (method, path, status) == ("POST", f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json", 201)


def test_messaging_service_sender(configure, fake: FakeTwilio) -> None:
    service = "MG" + "ab" * 16
    configure(from_numbers=(), messaging_service_sid=service)
    twilio.send_sms("+447700900123", "via service")
    [message] = fake.messages
    assert message["messaging_service_sid"] == service
    assert message["from"] is None
    assert message["status"] in {"accepted", "sent", "delivered"}


@pytest.mark.parametrize(
    ("to", "error", "code"),
    [
        ("07700900123", InvalidNumber, 21211),  # not E.164
        ("+15005550001", InvalidNumber, 21211),  # Twilio's magic invalid number
        ("", ProviderRefused, 21604),  # no To at all
    ],
)
def test_refusals_become_narrow_errors(configure, fake: FakeTwilio, to: str, error: type, code: int) -> None:
    with pytest.raises(error) as caught:
        twilio.send_sms(to, "hi")
    assert caught.value.code == code
    assert caught.value.status == 400
    assert fake.messages == []


def test_invalid_number_is_a_value_error_carrying_twilios_message(configure) -> None:
    with pytest.raises(ValueError, match="is not a valid phone number"):
        twilio.send_sms("12345", "hi")


def test_wrong_credentials_are_refused(configure, fake: FakeTwilio) -> None:
    configure(auth_token="wrong-token")
    with pytest.raises(ProviderRefused) as caught:
        twilio.send_sms("+447700900123", "hi")
    assert caught.value.status == 401
    assert caught.value.code == 20003
    assert fake.messages == []


def test_unknown_sender_is_refused(configure) -> None:
    with pytest.raises(ProviderRefused) as caught:
        twilio.send_sms("+447700900123", "hi", sender="+15550001111")
    assert caught.value.code == 21606


def test_server_errors_and_timeouts_are_provider_unavailable(configure, fake: FakeTwilio) -> None:
    fake.fail_next(1, status=503)
    with pytest.raises(ProviderUnavailable) as caught:
        twilio.send_sms("+447700900123", "hi")
    assert caught.value.status == 503
    configure(timeout_seconds=0.2, send_lease_seconds=1.0)
    fake.delay_seconds = 0.6
    with pytest.raises(ProviderUnavailable, match="cannot reach Twilio"):
        twilio.send_sms("+447700900123", "slow")
    # The slow request took effect at Twilio all the same: that is why such sends are reconciled.
    assert [m["body"] for m in fake.messages] == ["slow"]


def test_unreachable_api_is_provider_unavailable(configure, fake: FakeTwilio) -> None:
    fake.stop()
    with pytest.raises(ProviderUnavailable):
        twilio.send_sms("+447700900123", "hi")


def test_not_configured(configure) -> None:
    configure(account_sid="", auth_token="")
    with pytest.raises(ProviderNotConfigured):
        twilio.send_sms("+447700900123", "hi")


def test_list_follows_twilio_paging_and_filters_by_recipient(configure, fake: FakeTwilio) -> None:
    fake.hold = True
    sids = [twilio.send_sms("+447700900001", f"text {n}") for n in range(5)]
    twilio.send_sms("+447700900002", "someone else")
    listed = twilio.list_messages(to="+447700900001", page_size=2)
    assert sorted(m.sid for m in listed) == sorted(sids)
    assert {m.to for m in listed} == {"+447700900001"}
    assert all(m.date_created is not None and m.date_created.tzinfo is not None for m in listed)
    # Three GETs: pages of 2, 2 and 1, reached through next_page_uri (rewritten to the fake host).
    assert sum(1 for r in fake.requests if r[1] == "GET") == 3


def test_date_sent_filter_leaves_out_messages_not_yet_sent(configure, fake: FakeTwilio) -> None:
    fake.hold = True
    twilio.send_sms("+447700900001", "held")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert twilio.list_messages(to="+447700900001", date_sent_after=yesterday) == []
    fake.hold = False
    twilio.send_sms("+447700900001", "sent")
    wait_until(lambda: any(m["date_sent"] and m["body"] == "sent" for m in fake.messages), "the fake sending it")
    after = twilio.list_messages(to="+447700900001", date_sent_after=yesterday)
    assert [m.body for m in after] == ["sent"]
    assert after[0].date_sent is not None
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert twilio.list_messages(to="+447700900001", date_sent_after=tomorrow) == []


# --- signatures ---------------------------------------------------------------------------------------------

TWILIO_VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
TWILIO_VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_pythons_own_test_vector() -> None:
    assert twilio.validate_request(TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, TWILIO_VECTOR_SIGNATURE, auth_token="12345")
    assert (
        twilio.compute_signature(TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, auth_token="12345") == TWILIO_VECTOR_SIGNATURE
    )
    # The test server's independent implementation agrees with the SDK.
    assert twilio_signature("12345", TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS) == TWILIO_VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, TWILIO_VECTOR_SIGNATURE, "54321"),  # another token
        (TWILIO_VECTOR_URL.replace("foo=1", "foo=2"), TWILIO_VECTOR_PARAMS, TWILIO_VECTOR_SIGNATURE, "12345"),
        (TWILIO_VECTOR_URL, {**TWILIO_VECTOR_PARAMS, "Digits": "1235"}, TWILIO_VECTOR_SIGNATURE, "12345"),
        (TWILIO_VECTOR_URL, {**TWILIO_VECTOR_PARAMS, "Extra": "x"}, TWILIO_VECTOR_SIGNATURE, "12345"),
        (TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, "", "12345"),
        (TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, None, "12345"),
        (TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, base64.b64encode(b"x" * 20).decode(), "12345"),
        (TWILIO_VECTOR_URL, TWILIO_VECTOR_PARAMS, TWILIO_VECTOR_SIGNATURE, ""),  # no token configured
    ],
)
def test_signatures_refused(url: str, params: dict, signature: str | None, token: str) -> None:
    assert not twilio.validate_request(url, params, signature, auth_token=token)


def test_signature_with_the_configured_token(configure, fake: FakeTwilio) -> None:
    url = "https://smishguard.example.com/hooks/twilio/status?m=7"
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    assert twilio.validate_request(url, params, twilio_signature(fake.auth_token, url, params))
    assert not twilio.validate_request(url, params, twilio_signature("other", url, params))


def test_twiml_reply() -> None:
    assert twilio.twiml_message("Hi <you> & co") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi &lt;you&gt; &amp; co</Message></Response>'
    )
    assert twilio.twiml_message("") == '<?xml version="1.0" encoding="UTF-8"?><Response />'


# --- settings -----------------------------------------------------------------------------------------------


def test_settings_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("SMISHGUARD_TWILIO_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("SMISHGUARD_TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("SMISHGUARD_TWILIO_FROM", "+15005550006, +15005550007,")
    monkeypatch.setenv("SMISHGUARD_TWILIO_API_BASE", "http://127.0.0.1:9/")
    monkeypatch.setenv("SMISHGUARD_PUBLIC_URL", "https://sg.example.com/")
    monkeypatch.setenv("SMISHGUARD_TWILIO_RATE_PER_SECOND", "2.5")
    config = twilio_settings()
    assert config.from_numbers == ("+15005550006", "+15005550007")
    assert config.api_base == "http://127.0.0.1:9"
    assert config.public_url == "https://sg.example.com"
    assert config.rate_per_second == 2.5
    assert config.configured
    assert not dataclasses.replace(config, from_numbers=()).configured


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TWILIO_RATE_PER_SECOND", "fast", "must be a number"),
        ("TWILIO_RATE_PER_SECOND", "0", "greater than 0"),
        ("TWILIO_SEND_LEASE_SECONDS", "5", "longer than SMISHGUARD_TWILIO_TIMEOUT"),
    ],
)
def test_bad_settings_are_config_errors(monkeypatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(f"SMISHGUARD_{name}", value)
    with pytest.raises(ConfigError, match=message):
        twilio_settings()
