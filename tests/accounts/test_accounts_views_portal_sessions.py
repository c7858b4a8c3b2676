"""The portal's "my sessions" page (accounts.views.portal)."""

from __future__ import annotations

from django.conf import settings

from smishguard.accounts import sessions


def test_sessions_page_marks_the_current_one(employee, login):
    login(employee, user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0")
    text = login(employee).get("/portal/sessions").content.decode()
    assert "Firefox on Windows" in text
    assert "This browser" in text
    assert text.count("End session") == 1


def test_end_another_session(employee, login):
    other = login(employee)
    client = login(employee)
    response = client.post(f"/portal/sessions/{other.sg_session.pk}/end", follow=True)
    assert b"Session ended" in response.content
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_end_the_current_session_signs_out(employee, login):
    client = login(employee)
    response = client.post(f"/portal/sessions/{client.sg_session.pk}/end")
    assert response["Location"] == "/signin"
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    assert client.get("/").status_code == 302


def test_sign_out_everywhere_else(employee, login):
    others = [login(employee), login(employee)]
    client = login(employee)
    response = client.post("/portal/sessions/end-others", follow=True)
    assert b"Ended 2 other sessions" in response.content
    assert [s.pk for s in sessions.live()] == [client.sg_session.pk]
    assert all(o.get("/").status_code == 302 for o in others)


def test_cannot_end_someone_elses_session(employee, admin, login):
    theirs = login(admin)
    assert login(employee).post(f"/portal/sessions/{theirs.sg_session.pk}/end").status_code == 404
    assert theirs.get("/").status_code == 200
