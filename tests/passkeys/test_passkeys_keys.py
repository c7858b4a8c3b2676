"""Key management (portal API and services) and adding a backup key while signed in."""

from __future__ import annotations

import pytest
from django.conf import settings
from softkey import SoftKey

from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee, invite
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.passkeys import keys
from smishguard.passkeys.errors import InvalidKeyName, LastKey
from smishguard.passkeys.models import Challenge, Credential

KEYS = "/api/webauthn/keys"


@pytest.fixture
def signed_in(employee, enrolled, sign_in):
    assert sign_in(enrolled).status_code == 200
    return enrolled


def add_backup_key(client, api_post, key=None):
    key = key or SoftKey()
    options = api_post("/api/webauthn/register/options", {})
    assert options.status_code == 200, options.content
    return key, options.json(), api_post("/api/webauthn/register/verify", key.register(options.json()))


def test_keys_need_a_session(db, client):
    assert client.get(KEYS).status_code == 401
    assert client.delete(f"{KEYS}/1").status_code == 401


def test_list_my_keys(client, employee, signed_in):
    (key,) = client.get(KEYS).json()["keys"]
    assert key["name"] == "Security key 1"
    assert key["model"] == "Chromium virtual authenticator (unverified)"
    assert key["last_used_at"] is not None
    assert key["flagged"] is False


def test_add_a_backup_key_while_signed_in(client, employee, signed_in, api_post):
    _, options, response = add_backup_key(client, api_post)
    assert [c["id"] for c in options["excludeCredentials"]] == [client.get(KEYS).json()["keys"][0]["credential_id"]]
    assert Challenge.objects.filter(purpose="register", enrolment_link__isnull=True).count() == 1
    assert response.status_code == 201
    assert response.json()["name"] == "Security key 2"
    assert len(client.get(KEYS).json()["keys"]) == 2
    handles = {bytes(c.user_handle) for c in Credential.objects.all()}
    assert len(handles) == 1  # the same WebAuthn user.id for every key of one employee
    assert Event.objects.filter(action=Action.KEY_REGISTERED.value, detail__via="portal").count() == 1


def test_the_same_authenticator_cannot_be_registered_twice(client, employee, signed_in, api_post):
    _, _, response = add_backup_key(client, api_post, key=signed_in)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credential_exists"
    assert Credential.objects.count() == 1


def test_backup_key_verify_needs_the_session_that_asked(client, employee, signed_in, api_post):
    key = SoftKey()
    options = api_post("/api/webauthn/register/options", {}).json()
    client.cookies.clear()
    response = api_post("/api/webauthn/register/verify", key.register(options))
    assert response.status_code == 401
    assert Credential.objects.count() == 1


def test_rename_a_key(client, employee, signed_in):
    key_id = Credential.objects.get().pk
    response = client.patch(f"{KEYS}/{key_id}", {"name": "  Desk   key "}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == "Desk key"
    event = Event.objects.get(action=Action.KEY_RENAMED.value)
    assert event.detail == {"key_id": key_id, "old_name": "Security key 1", "new_name": "Desk key"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\tinside\x07bell"])
def test_rename_refuses_bad_names(client, employee, signed_in, name):
    key_id = Credential.objects.get().pk
    response = client.patch(f"{KEYS}/{key_id}", {"name": name}, content_type="application/json")
    assert response.status_code == 400
    assert Credential.objects.get().name == "Security key 1"


def test_cannot_remove_my_last_key(client, employee, signed_in):
    key_id = Credential.objects.get().pk
    response = client.delete(f"{KEYS}/{key_id}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_key"
    assert Credential.objects.active().count() == 1


def test_remove_a_key_when_a_backup_exists(client, employee, signed_in, api_post):
    add_backup_key(client, api_post)
    first = Credential.objects.order_by("pk").first()
    response = client.delete(f"{KEYS}/{first.pk}")
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert first.revoke_reason == "removed by owner"
    assert len(client.get(KEYS).json()["keys"]) == 1  # still signed in: this session was kept
    event = Event.objects.get(action=Action.KEY_REMOVED.value)
    assert event.detail["key_id"] == first.pk


def test_cannot_touch_another_employees_key(client, employee, signed_in, enrol):
    bo = add_employee(email="bo@example.com", name="Bo")
    enrol_response = enrol(SoftKey(), invite(bo).token)
    assert enrol_response.status_code == 201
    bo_key = Credential.objects.get(employee=bo)
    assert client.delete(f"{KEYS}/{bo_key.pk}").status_code == 404
    patch = client.patch(f"{KEYS}/{bo_key.pk}", {"name": "mine"}, content_type="application/json")
    assert patch.status_code == 404
    assert Credential.objects.get(pk=bo_key.pk).revoked_at is None


def test_admin_may_remove_an_employees_last_key_and_its_sessions_end(employee, enrolled, sign_in):
    assert sign_in(enrolled).status_code == 200
    admin = add_employee(email="root@example.com", name="Root", is_admin=True)
    credential = Credential.objects.get(employee=employee)
    keys.remove_key(credential, actor=admin)
    assert Credential.objects.get().revoke_reason == "removed by admin"
    assert Session.objects.get(employee=employee).revoked_at is not None
    assert Event.objects.get(action=Action.KEY_REMOVED.value).actor == admin


def test_services_raise_narrow_errors(employee, enrolled):
    credential = Credential.objects.get()
    with pytest.raises(LastKey):
        keys.remove_key(credential, actor=employee)
    with pytest.raises(InvalidKeyName):
        keys.rename_key(credential, 42, actor=employee)  # type: ignore[arg-type]
    assert list(keys.keys_for(employee)) == [credential]


def test_key_management_calls_check_csrf_in_a_browser(employee, enrolled, sign_in, client):
    from django.test import Client

    assert sign_in(enrolled).status_code == 200
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = client.cookies
    key_id = Credential.objects.get().pk
    response = browser.patch(
        f"{KEYS}/{key_id}", {"name": "x"}, content_type="application/json", HTTP_ORIGIN=settings.SMISHGUARD.origin
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Credential.objects.get().name == "Security key 1"
