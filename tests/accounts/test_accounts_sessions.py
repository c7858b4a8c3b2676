"""Server-side sessions: idle timeout, absolute lifetime, revocation, and /api/me."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def employee():
    return services.add_employee(email="ann@example.com", name="Ann Example")


def test_only_the_digest_is_stored(employee):
    token, session = sessions.create(employee, request=None)
    assert token not in session.key_hash
    assert Session.objects.filter(key_hash=token).count() == 0
    assert sessions.resolve(token).pk == session.pk


def test_idle_timeout_and_absolute_lifetime(employee):
    policy = settings.SMISHGUARD.sessions
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        token, _ = sessions.create(employee, request=None)
        # activity keeps it alive past one idle period...
        for _ in range(3):
            traveller.shift(timedelta(seconds=policy.idle_timeout_seconds - 60))
            assert sessions.resolve(token) is not None
        # ...but idleness ends it
        traveller.shift(timedelta(seconds=policy.idle_timeout_seconds + 1))
        assert sessions.resolve(token) is None
    with time_machine.travel(start, tick=False) as traveller:
        token, _ = sessions.create(employee, request=None)
        elapsed = 0
        while elapsed < policy.absolute_lifetime_seconds - 600:
            traveller.shift(timedelta(seconds=600))
            elapsed += 600
            assert sessions.resolve(token) is not None
        traveller.shift(timedelta(seconds=601))
        assert sessions.resolve(token) is None


def test_revoke_records_one_event_per_employee(employee):
    t1, _ = sessions.create(employee, request=None)
    t2, _ = sessions.create(employee, request=None)
    assert sessions.revoke(Session.objects.filter(employee=employee), reason="test") == 2
    assert sessions.resolve(t1) is None
    assert sessions.resolve(t2) is None
    event = Event.objects.get(action=Action.SESSION_REVOKED)
    assert event.detail["sessions"] == 2
    # revoking again does nothing and records nothing
    assert sessions.revoke(Session.objects.all(), reason="again") == 0
    assert Event.objects.filter(action=Action.SESSION_REVOKED).count() == 1


def test_me_with_and_without_session(client, employee):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    token, session = sessions.create(employee, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    body = client.get("/api/me").json()
    assert body["email"] == "ann@example.com"
    assert body["name"] == "Ann Example"
    assert body["auth_method"] == "webauthn"
    assert body["authenticated_at"] == session.created_at.isoformat()


def test_revoked_session_is_refused_on_the_next_request(client, employee):
    token, _ = sessions.create(employee, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    assert client.get("/api/me").status_code == 200
    sessions.revoke(Session.objects.filter(employee=employee), reason="test")
    assert client.get("/api/me").status_code == 401


def test_signout_ends_the_session(client, employee):
    token, _ = sessions.create(employee, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    response = client.post("/api/session/signout", "{}", "application/json", HTTP_ORIGIN=settings.SMISHGUARD.origin)
    assert response.status_code == 200
    assert client.get("/api/me").status_code == 401
    assert Event.objects.filter(action=Action.SESSION_SIGNED_OUT).count() == 1


def test_oversize_body_gets_413_json(client):
    big = b"{" + b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b"}"
    response = client.post("/api/session/signout", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
