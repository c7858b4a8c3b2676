"""The employee portal: overview, my keys (rename, remove, not the last), my sessions."""

from __future__ import annotations

from django.conf import settings

from smishguard.accounts import sessions
from smishguard.audit import Action
from smishguard.audit.models import Event


def test_overview_warns_about_a_single_key(employee, login, add_key):
    add_key(employee)
    text = login(employee).get("/").content.decode()
    assert "You have only one security key" in text
    assert "Hello, Carl Support" in text


def test_keys_page_lists_my_active_keys_only(employee, admin, login, add_key):
    add_key(employee, name="Keyring key", model="YubiKey 5 NFC")
    add_key(employee, name="Gone key", revoked=True)
    add_key(admin, name="Not mine")
    text = login(employee).get("/portal/keys").content.decode()
    assert "Keyring key" in text
    assert "YubiKey 5 NFC" in text
    assert "Gone key" not in text
    assert "Not mine" not in text
    assert "Your last key cannot be removed" in text
    assert 'data-webauthn="register"' in text
    assert "csrftoken" in login(employee).get("/portal/keys").cookies


def test_rename_key(employee, login, add_key):
    key = add_key(employee, name="Old")
    response = login(employee).post(f"/portal/keys/{key.pk}/rename", {"name": "  Blue   key "}, follow=True)
    assert "Key renamed to “Blue key”" in response.content.decode()
    key.refresh_from_db()
    assert key.name == "Blue key"
    assert Event.objects.filter(action=Action.KEY_RENAMED, subject=employee).exists()


def test_rename_with_a_bad_name_is_a_clear_error(employee, login, add_key):
    key = add_key(employee, name="Old")
    response = login(employee).post(f"/portal/keys/{key.pk}/rename", {"name": "   "}, follow=True)
    assert "a key name must be 1 to 100 characters" in response.content.decode()
    key.refresh_from_db()
    assert key.name == "Old"


def test_remove_a_key_but_never_the_last(employee, login, add_key):
    first, second = add_key(employee, name="First"), add_key(employee, name="Second")
    client = login(employee)
    response = client.post(f"/portal/keys/{first.pk}/remove", follow=True)
    assert "Removed “First”" in response.content.decode()
    first.refresh_from_db()
    assert first.revoked_at is not None
    response = client.post(f"/portal/keys/{second.pk}/remove", follow=True)
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.revoked_at is None
    assert "last" in response.content.decode().lower()


def test_someone_elses_key_is_404(employee, admin, login, add_key):
    theirs = add_key(admin)
    assert login(employee).post(f"/portal/keys/{theirs.pk}/remove").status_code == 404
    assert login(employee).post(f"/portal/keys/{theirs.pk}/rename", {"name": "x"}).status_code == 404


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
