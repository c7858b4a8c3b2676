"""Issue 11, item 12: a browser whose session was ended is told why on the sign-in page, and only about its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Session
from smishguard.passkeys.keys import flag_key

pytestmark = pytest.mark.django_db


def signin_page(client: Client) -> str:
    """Follow a portal visit to the sign-in page, as a browser does."""
    response = client.get(reverse("web:portal"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, "the ended session must not reach the portal"
    assert response.redirect_chain[-1][0].startswith(reverse("passkeys:signin"))
    return response.content.decode()


def test_revoked_by_the_security_team_says_so_and_when(login, employee, admin):
    client = login(employee)
    at = timezone.now()
    sessions.revoke(Session.objects.filter(pk=client.sg_session.pk), reason="revoked by admin", actor_label=admin.email)
    page = signin_page(client)
    assert "ended by the security team" in page
    assert f"{at:%H:%M} UTC" in page or f"{at + timedelta(minutes=1):%H:%M} UTC" in page
    assert admin.email not in page  # who pressed the button is the console's business, not the page's


def test_signed_out_elsewhere_says_you_signed_out(login, employee):
    client = login(employee)
    sessions.revoke(Session.objects.filter(pk=client.sg_session.pk), reason="signed out", actor_label=employee.email)
    assert "You signed out" in signin_page(client)


def test_flagged_key_says_the_key_was_flagged(login, employee, add_key):
    key = add_key(employee)
    client = login(employee)
    Session.objects.filter(pk=client.sg_session.pk).update(credential=key)
    flag_key(key, reason="signature counter went backwards")
    assert "flagged as possibly cloned" in signin_page(client)


def test_suspended_account_says_so(login, employee):
    client = login(employee)
    services.suspend(employee)
    assert "your account was suspended" in signin_page(client)


def test_idle_session_says_how_long(login, employee):
    client = login(employee)
    idle = settings.SMISHGUARD.sessions.idle_timeout_seconds
    with time_machine.travel(timezone.now() + timedelta(seconds=idle + 60), tick=False):
        page = signin_page(client)
    assert f"after {idle // 60} minutes of inactivity" in page


def test_expired_session_says_how_long(login, employee):
    client = login(employee)
    lifetime = settings.SMISHGUARD.sessions.absolute_lifetime_seconds
    Session.objects.filter(pk=client.sg_session.pk).update(last_seen_at=timezone.now() + timedelta(seconds=lifetime))
    with time_machine.travel(timezone.now() + timedelta(seconds=lifetime + 60), tick=False):
        page = signin_page(client)
    assert f"expired after {lifetime // 3600} hours" in page


def test_unknown_or_live_cookie_says_nothing(login, employee):
    stranger = Client()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = "made-up-token-that-matches-no-session"
    page = stranger.get(reverse("passkeys:signin")).content.decode()
    assert "ended" not in page.lower()
    fresh = Client()
    page = fresh.get(reverse("passkeys:signin")).content.decode()
    assert "ended" not in page.lower()


def test_someone_elses_ended_session_is_never_described(login, employee, admin):
    """Only the cookie's owner learns about its session: another browser sees nothing of it."""
    theirs = login(employee)
    sessions.revoke(Session.objects.filter(pk=theirs.sg_session.pk), reason="revoked by admin", actor_label=admin.email)
    mine = Client()
    mine.cookies[settings.SESSION_COOKIE_NAME] = "x" * 43
    page = mine.get(reverse("passkeys:signin") + f"?session={theirs.sg_session.pk}").content.decode()
    assert "ended by the security team" not in page
