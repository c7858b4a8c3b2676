"""The portal's "my security keys" page (passkeys.views)."""

from __future__ import annotations

from smishguard.audit import Action
from smishguard.audit.models import Event


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
