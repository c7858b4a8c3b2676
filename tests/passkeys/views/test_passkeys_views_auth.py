"""Sign-in, sign-out and enrolment pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from smishguard.accounts import services
from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event


def test_signin_page(db):
    response = Client().get("/signin")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Sign in with your security key" in text
    assert 'data-webauthn="signin"' in text
    assert "js/webauthn.js" in text
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize(
    ("next_param", "expected"),
    [
        ("/console/audit", 'data-next="/console/audit"'),
        ("https://twilio-okta.com/x", 'data-next="/"'),
        ("//evil.example/", 'data-next="/"'),
    ],
)
def test_signin_keeps_only_a_safe_next(db, next_param, expected):
    text = Client().get("/signin", {"next": next_param}).content.decode()
    assert expected in text


def test_signed_in_visitors_skip_the_signin_page(employee, login):
    response = login(employee).get("/signin?next=/portal/keys")
    assert response.status_code == 302
    assert response["Location"] == "/portal/keys"


def test_signout(employee, login):
    client = login(employee)
    assert b"End this session" in client.get("/signout").content
    response = client.post("/signout")
    assert response["Location"] == "/signin"
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    session = Session.objects.get(pk=client.sg_session.pk)
    assert session.revoked_at is not None
    assert Event.objects.filter(action=Action.SESSION_SIGNED_OUT, subject=employee).exists()
    assert Client().get("/signout")["Location"] == "/signin"


def test_enrol_page_shows_who_it_is_for(employee):
    issued = services.invite(employee)
    response = Client().get(f"/enrol/{issued.token}")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Carl Support" in text
    assert "carl@example.com" in text
    assert "Register security key" in text
    assert f'data-token="{issued.token}"' in text
    assert "csrftoken" in response.cookies


def test_unknown_enrolment_link_is_400(db):
    response = Client().get("/enrol/not-a-real-token")
    assert response.status_code == 400
    assert b"This enrolment link cannot be used" in response.content


def test_used_enrolment_link_is_410(employee):
    issued = services.invite(employee)
    services.consume_link(services.usable_link(issued.token))
    response = Client().get(f"/enrol/{issued.token}")
    assert response.status_code == 410
    assert b"already been used" in response.content


def test_expired_enrolment_link_is_410(employee):
    issued = services.invite(employee)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = Client().get(f"/enrol/{issued.token}")
    assert response.status_code == 410
    assert b"expired" in response.content


def test_cancelled_enrolment_link_is_410(employee):
    first = services.invite(employee)
    services.invite(employee)  # a new link cancels the old one
    response = Client().get(f"/enrol/{first.token}")
    assert response.status_code == 410
    assert b"cancelled" in response.content
