"""Anonymous garbage does not fill the append-only audit trail: refusals of requests nobody is known for are
recorded once per source, kind and window, the next event carrying how many were not recorded one by one."""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.test import Client
from softkey import SoftKey, b64url

from smishguard.audit import Action
from smishguard.audit.models import Event

KINDS = {
    Action.SIGNIN_FAILED,
    Action.API_TOKEN_REFUSED,
    Action.MESSAGING_WEBHOOK_REFUSED,
    Action.KEY_REGISTRATION_REFUSED,
}


def _round(client: Client) -> None:
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    assertion = SoftKey().assertion({"challenge": b64url(os.urandom(32)), "rpId": "localhost"})  # no such challenge
    signin = client.post(
        "/api/webauthn/login/verify",
        json.dumps(assertion),
        content_type="application/json",
        HTTP_ORIGIN=settings.SMISHGUARD.origin,  # a script can send our origin; the refusal is audited then
    )
    assert signin.status_code == 400
    assert client.get("/api/blocklists", HTTP_AUTHORIZATION="Bearer sg_not-a-token").status_code == 401
    form = "From=%2B15550001&MessageSid=SM1&Body=hi"
    hook = client.post("/hooks/twilio/sms", form, content_type="application/x-www-form-urlencoded")
    assert hook.status_code == 403
    body = json.dumps({**junk, "response": {"clientDataJSON": "AA", "attestationObject": "AA"}, "token": "nope"})
    registered = client.post(
        "/api/webauthn/register/verify", body, content_type="application/json", HTTP_ORIGIN=settings.SMISHGUARD.origin
    )
    assert registered.status_code >= 400


def test_twenty_rounds_of_anonymous_garbage_write_one_row_per_kind_and_window(db, time_machine):
    time_machine.move_to("2026-03-02T09:00:00Z", tick=False)
    client = Client(REMOTE_ADDR="198.51.100.23")
    for _ in range(20):
        _round(client)
    first = list(Event.objects.order_by("id"))
    assert {e.action for e in first} == KINDS
    assert len(first) == len(KINDS)  # not eighty
    assert all(e.detail["earlier_refusals"] == 0 and e.ip == "198.51.100.23" for e in first)

    time_machine.move_to("2026-03-02T09:10:30Z", tick=False)  # the next window
    _round(client)
    second = list(Event.objects.order_by("id"))[len(first) :]
    assert {e.action for e in second} == KINDS
    assert all(e.detail["earlier_refusals"] == 19 for e in second)  # the 19 of each kind not recorded before


def test_another_source_is_recorded_on_its_own(db, time_machine):
    time_machine.move_to("2026-03-02T09:00:00Z", tick=False)
    _round(Client(REMOTE_ADDR="198.51.100.23"))
    _round(Client(REMOTE_ADDR="198.51.100.24"))
    assert Event.objects.count() == 2 * len(KINDS)
