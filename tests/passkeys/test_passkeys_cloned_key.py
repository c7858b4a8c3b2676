"""A key flagged as possibly cloned (issue 10, item 2): in the transaction that flags it, every session the key
opened is revoked; the security team is alerted through the task queue (not tied to a campaign); the audit
trail shows the flag, the revocation and the alert.  A real sign-in with the software authenticator, then its
clone (the same private key and credential id, its counter behind), against the real worker and a real local
webhook receiver."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from django.conf import settings
from django.test import Client
from softkey import SoftKey, b64url
from twilio_fixtures import work  # noqa: F401 - the shared pytest fixture: the real worker, in this process
from webhook_receiver import WebhookReceiver

from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.passkeys.models import Credential

LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"


@pytest.fixture
def alert_webhook(settings):
    def apply(url: str | None, **more: object) -> None:
        rules = dataclasses.replace(settings.SMISHGUARD.response, alert_webhook=url, **more)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, response=rules)

    return apply


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def sign_in(client: Client, key: SoftKey, email: str = "ada@example.com") -> object:
    options = post(client, LOGIN_OPTIONS, {"email": email})
    assert options.status_code == 200, options.content
    return post(client, LOGIN_VERIFY, key.assertion(options.json()))


def signed_in(key: SoftKey) -> tuple[Client, str]:
    """A browser of its own, signed in with ``key``; returns it and its session cookie's value."""
    browser = Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)
    response = sign_in(browser, key)
    assert response.status_code == 200, response.content
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get("/api/me").status_code == 200
    return browser, cookie


def actions() -> list[str]:
    return list(Event.objects.order_by("pk").values_list("action", flat=True))


def test_a_cloned_key_ends_the_sessions_it_opened_alerts_and_is_audited(employee, token, enrolled, alert_webhook, work):
    clone = copy.copy(enrolled)  # the attacker's copy: same private key and credential id, its counter at 0
    with WebhookReceiver() as hook:
        alert_webhook(hook.url)
        legit, cookie = signed_in(enrolled)
        legit_again, _ = signed_in(enrolled)  # a second session opened by the same key, on another device
        assert enrolled.sign_count == 2

        attacker = Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)
        refused = sign_in(attacker, clone)  # counter 1, not above the stored 2: a possible clone
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "counter_regressed"
        assert (
            settings.SESSION_COOKIE_NAME not in attacker.cookies
            or not attacker.cookies[settings.SESSION_COOKIE_NAME].value
        )

        # The legitimate sessions are refused on their very next request, before any worker has run.
        assert legit.get("/api/me").status_code == 401
        assert legit_again.get("/api/me").status_code == 401
        assert hook.received == []  # nothing is posted from the request: the alert waits in the queue
        opened = Session.objects.filter(credential=Credential.objects.get())
        assert opened.count() == 2
        assert all(s.revoked_at is not None and s.revoked_by == "system" for s in opened)

        work()

    # The alert reached the security team's hook once, with what they need and no secret.
    assert len(hook.received) == 1
    body, headers = hook.received[0]
    assert body["event"] == "key_flagged"
    assert body["text"].startswith(":rotating_light: smishguard: ")
    assert "ada@example.com" in body["text"]
    assert "Security key 1" in body["text"]
    assert body["employee"]["email"] == "ada@example.com"
    assert body["sessions_revoked"] == 2
    assert headers["Idempotency-Key"].startswith("smishguard-")
    raw = hook.raw[0].decode()
    credential = Credential.objects.get()
    for secret in (cookie, token, hook.url, settings.SECRET_KEY, b64url(bytes(credential.public_key))):
        assert secret not in raw

    # The audit trail: the flag, the revocation (naming both sessions), the refused sign-in, the alert sent.
    trail = actions()
    flagged = trail.index(Action.KEY_FLAGGED)
    revoked = trail.index(Action.SESSION_REVOKED)
    assert flagged < revoked < trail.index(Action.SECURITY_ALERT_SENT)
    revocation = Event.objects.get(action=Action.SESSION_REVOKED)
    assert sorted(revocation.detail["session_ids"]) == sorted(opened.values_list("pk", flat=True))
    assert "clone" in revocation.detail["reason"]
    assert revocation.subject == employee
    flag = Event.objects.get(action=Action.KEY_FLAGGED)
    assert flag.detail["sessions_revoked"] == 2
    sent = Event.objects.get(action=Action.SECURITY_ALERT_SENT)
    assert sent.detail["event"] == "key_flagged"
    for event in Event.objects.all():
        assert hook.url not in json.dumps(event.detail)


def test_an_alert_that_keeps_failing_is_recorded_and_the_sessions_stay_ended(employee, enrolled, alert_webhook, work):
    clone = copy.copy(enrolled)
    with WebhookReceiver(statuses=[503]) as hook:
        alert_webhook(hook.url, alert_attempts=1)
        legit, _ = signed_in(enrolled)
        signed_in(enrolled)
        assert sign_in(Client(HTTP_ORIGIN=settings.SMISHGUARD.origin), clone).status_code == 401
        work()
    assert len(hook.received) == 1
    assert legit.get("/api/me").status_code == 401
    failed = Event.objects.get(action=Action.SECURITY_ALERT_FAILED)
    assert (failed.detail["event"], failed.detail["error"]) == ("key_flagged", "HTTP 503")
    assert not Event.objects.filter(action=Action.SECURITY_ALERT_SENT).exists()


def test_without_an_alert_webhook_the_sessions_still_end(employee, enrolled, alert_webhook, work):
    alert_webhook(None)
    clone = copy.copy(enrolled)
    legit, _ = signed_in(enrolled)
    signed_in(enrolled)
    assert sign_in(Client(HTTP_ORIGIN=settings.SMISHGUARD.origin), clone).status_code == 401
    assert legit.get("/api/me").status_code == 401
    assert Event.objects.filter(action=Action.SESSION_REVOKED).count() == 1
    assert Event.objects.filter(action=Action.KEY_FLAGGED).get().detail["sessions_revoked"] == 2
