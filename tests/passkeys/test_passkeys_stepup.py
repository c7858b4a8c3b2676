"""Step-up: a fresh key assertion in this session before a key can be added (issue 10, item 3).

The session records when it last made a key assertion (at sign-in, and at each step-up ceremony); adding a key
from the portal asks for one at most ``[sessions] step_up_max_age_seconds`` old (default 300 s).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from softkey import SoftKey, b64url
from twilio_fixtures import configure, fake  # noqa: F401 - pytest fixtures used by name

from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee, invite
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.config import SessionPolicy, load
from smishguard.messaging.models import OutboundMessage
from smishguard.passkeys.models import Credential

STEPUP_OPTIONS = "/api/webauthn/stepup/options"
STEPUP_VERIFY = "/api/webauthn/stepup/verify"
REGISTER_OPTIONS = "/api/webauthn/register/options"
REGISTER_VERIFY = "/api/webauthn/register/verify"


@pytest.fixture
def signed_in(employee, enrolled, sign_in):
    assert sign_in(enrolled).status_code == 200
    return enrolled


def later(minutes: float):
    """Move the clock forward (within the idle timeout, so the session stays live)."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def step_up(api_post, key: SoftKey, **assertion_kwargs):
    options = api_post(STEPUP_OPTIONS, {})
    assert options.status_code == 200, options.content
    return options.json(), api_post(STEPUP_VERIFY, key.assertion(options.json(), **assertion_kwargs))


def test_the_default_max_age_is_five_minutes_and_the_toml_sets_it(tmp_path):
    assert SessionPolicy().step_up_max_age_seconds == 300
    path = tmp_path / "smishguard.toml"
    path.write_text("[sessions]\nstep_up_max_age_seconds = 120\n")
    assert load(path).sessions.step_up_max_age_seconds == 120


def test_sign_in_records_the_assertion_time(client, employee, signed_in):
    session = Session.objects.get()
    assert session.last_assertion_at is not None
    assert abs((session.last_assertion_at - session.created_at).total_seconds()) < 5


def test_adding_a_key_right_after_sign_in_needs_no_step_up(client, employee, signed_in, api_post):
    options = api_post(REGISTER_OPTIONS, {})
    assert options.status_code == 200
    assert api_post(REGISTER_VERIFY, SoftKey().register(options.json())).status_code == 201


def test_a_stolen_session_cookie_alone_cannot_add_a_key(client, employee, signed_in, api_post):
    with later(6):
        response = api_post(REGISTER_OPTIONS, {})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "step_up_required"
    assert Credential.objects.count() == 1
    assert Event.objects.filter(action=Action.STEPUP_REQUIRED.value, subject=employee).exists()


def test_options_in_time_but_verify_too_late_is_refused(client, employee, signed_in, api_post):
    with later(4):
        options = api_post(REGISTER_OPTIONS, {})
        assert options.status_code == 200
    with later(6):
        response = api_post(REGISTER_VERIFY, SoftKey().register(options.json()))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "step_up_required"
    assert Credential.objects.count() == 1


def test_a_step_up_with_an_existing_key_lets_the_key_be_added(client, employee, signed_in, api_post):
    own_id = b64url(bytes(Credential.objects.get().credential_id))
    with later(6):
        options, verified = step_up(api_post, signed_in)
        assert [c["id"] for c in options["allowCredentials"]] == [own_id]
        assert verified.status_code == 200, verified.content
        assert verified.json()["stepped_up"] is True
        new = api_post(REGISTER_OPTIONS, {})
        assert new.status_code == 200
        assert api_post(REGISTER_VERIFY, SoftKey().register(new.json())).status_code == 201
    assert Credential.objects.count() == 2
    event = Event.objects.get(action=Action.STEPUP_SUCCEEDED.value)
    assert event.subject_id == employee.pk
    assert event.detail["key_id"] == Credential.objects.order_by("created_at").first().pk
    assert Credential.objects.order_by("created_at").first().sign_count == signed_in.sign_count


def test_step_up_refuses_a_key_of_someone_else(client, employee, signed_in, api_post):
    other = add_employee(email="eve@example.com", name="Eve Other")
    other_key = SoftKey()
    outsider = Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)
    link = invite(other).token
    opts = outsider.post(REGISTER_OPTIONS, {"token": link}, content_type="application/json").json()
    registered = outsider.post(
        REGISTER_VERIFY, {**other_key.register(opts), "token": link}, content_type="application/json"
    )
    assert registered.status_code == 201
    with later(6):
        options = api_post(STEPUP_OPTIONS, {}).json()
        response = api_post(STEPUP_VERIFY, other_key.assertion(options))
        assert response.status_code in (400, 401, 403)
        assert api_post(REGISTER_OPTIONS, {}).status_code == 403
    failed = Event.objects.get(action=Action.STEPUP_FAILED.value)
    assert failed.subject_id == employee.pk


def test_step_up_with_a_bad_signature_is_refused_and_audited(client, employee, signed_in, api_post):
    with later(6):
        _, response = step_up(api_post, signed_in, corrupt="signature")
        assert response.status_code in (400, 401)
        assert api_post(REGISTER_OPTIONS, {}).status_code == 403
    assert Event.objects.filter(action=Action.STEPUP_FAILED.value, subject=employee).count() == 1
    assert not Event.objects.filter(action=Action.STEPUP_SUCCEEDED.value).exists()


def test_step_up_with_a_rolled_back_counter_flags_the_key(client, employee, signed_in, api_post):
    with later(6):
        _, response = step_up(api_post, signed_in, sign_count=0)
        assert response.status_code in (400, 401, 403)
        # Flagging the key also ends every session it opened (item 2), this one included.
        assert api_post(REGISTER_OPTIONS, {}).status_code == 401
    assert Credential.objects.get().flagged_at is not None
    assert Event.objects.filter(action=Action.KEY_FLAGGED.value).exists()


def test_a_step_up_challenge_is_single_use(client, employee, signed_in, api_post):
    with later(6):
        options = api_post(STEPUP_OPTIONS, {}).json()
        assertion = signed_in.assertion(options)
        assert api_post(STEPUP_VERIFY, assertion).status_code == 200
        assert api_post(STEPUP_VERIFY, assertion).status_code == 400


def test_step_up_needs_a_session(db, client, api_post):
    assert api_post(STEPUP_OPTIONS, {}).status_code == 401
    assert api_post(STEPUP_VERIFY, {"id": "x", "rawId": "x", "type": "public-key", "response": {}}).status_code in (
        400,
        401,
    )


def test_step_up_needs_json_and_the_csrf_token(employee, signed_in, client):
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN=settings.SMISHGUARD.origin)
    strict.cookies = client.cookies
    assert strict.post(STEPUP_OPTIONS, "{}", content_type="application/json").status_code == 403
    strict.get("/portal/keys")  # sets the CSRF cookie
    csrf = strict.cookies["csrftoken"].value
    plain = strict.post(STEPUP_OPTIONS, "{}", content_type="text/plain", HTTP_X_CSRFTOKEN=csrf)
    assert plain.status_code == 415
    assert plain.json()["error"]["code"] == "unsupported_media_type"
    ok = strict.post(STEPUP_OPTIONS, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 200


@pytest.mark.usefixtures("db", "configure")
def test_a_key_added_from_the_portal_is_shown_as_new_and_texted(client, api_post, sign_in, enrol):
    employee = add_employee(email="ada@example.com", name="Ada Lovelace", phone="+14155550199")
    first = SoftKey()
    assert enrol(first, invite(employee).token).status_code == 201
    assert sign_in(first).status_code == 200
    options = api_post(REGISTER_OPTIONS, {}).json()
    assert api_post(REGISTER_VERIFY, {**SoftKey().register(options), "name": "Desk key"}).status_code == 201
    page = client.get("/portal/keys").content.decode()
    assert "Desk key" in page
    assert page.count("data-new-key") == 2  # both keys were added within the last days: both rows marked
    assert page.count("— new") == 2
    (sms,) = OutboundMessage.objects.filter(employee=employee)
    assert sms.to == "+14155550199"
    assert sms.purpose == OutboundMessage.Purpose.NOTICE
    assert "Desk key" in sms.body
    registered = Event.objects.get(action=Action.KEY_REGISTERED.value, detail__via="portal")
    assert registered.detail["stepped_up"] is True
    assert Event.objects.filter(action=Action.SECURITY_NOTICE_QUEUED.value, subject=employee).count() == 1


def test_a_key_added_without_a_phone_is_audited_without_a_text(client, employee, signed_in, api_post):
    options = api_post(REGISTER_OPTIONS, {}).json()
    assert api_post(REGISTER_VERIFY, SoftKey().register(options)).status_code == 201
    assert not OutboundMessage.objects.exists()
    skipped = Event.objects.get(action=Action.SECURITY_NOTICE_SKIPPED.value)
    assert skipped.detail["reason"] == "no phone number"


def test_the_written_out_session_insert_equals_the_orm_form(employee):
    from smishguard.accounts import sessions

    _, returned = sessions.create(employee, request=None)
    stored = Session.objects.get(pk=returned.pk)
    for field in Session._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(returned, field.attname), field.name
    assert stored.last_assertion_at == stored.created_at
