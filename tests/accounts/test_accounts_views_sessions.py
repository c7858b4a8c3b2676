"""Console live sessions: list, revoke one, revoke all with a confirmation step."""

from __future__ import annotations

from django.conf import settings

from smishguard.accounts import sessions
from smishguard.audit import Action
from smishguard.audit.models import Event


def test_sessions_page_lists_live_sessions_and_marks_mine(admin, employee, login):
    login(employee, user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15")
    text = login(admin).get("/console/sessions").content.decode()
    assert "Carl Support" in text
    assert "Safari on macOS" in text
    assert "You, here" in text


def test_revoke_one_session(admin, employee, login):
    victim = login(employee)
    response = login(admin).post(f"/console/sessions/{victim.sg_session.pk}/revoke", follow=True)
    assert "Revoked a session of Carl Support" in response.content.decode()
    assert victim.get("/").status_code == 302
    event = Event.objects.filter(action=Action.SESSION_REVOKED, subject=employee).latest("at")
    assert event.actor_label == admin.email


def test_revoke_all_needs_the_phrase(admin, employee, login):
    victim = login(employee)
    client = login(admin)
    confirm = client.get("/console/sessions/revoke-all").content.decode()
    assert "1 other session</strong> of <strong>1 employee<" in confirm  # mine is not counted
    response = client.post("/console/sessions/revoke-all", {"confirm": "yes"}, follow=True)
    assert b"Type REVOKE ALL to confirm" in response.content
    assert victim.get("/").status_code == 200


def test_revoke_all_keeps_my_session_unless_asked(admin, employee, second_admin, login):
    victims = [login(employee), login(second_admin)]
    client = login(admin)
    response = client.post("/console/sessions/revoke-all", {"confirm": "REVOKE ALL"}, follow=True)
    assert "Revoked 2 sessions" in response.content.decode()
    assert all(v.get("/").status_code == 302 for v in victims)
    assert client.get("/console/sessions").status_code == 200
    assert list(sessions.live()) == [client.sg_session]


def test_revoke_all_including_mine_signs_me_out(admin, employee, login):
    login(employee)
    client = login(admin)
    response = client.post("/console/sessions/revoke-all", {"confirm": "REVOKE ALL", "include_mine": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/signin"
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    assert not sessions.live().exists()
