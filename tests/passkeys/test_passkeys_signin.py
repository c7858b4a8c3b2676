"""passkeys.signin through the WebAuthn API with a software authenticator: sign-in, every refusal, and no
account enumeration."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone
from passkeys_api import (
    LOGIN_OPTIONS,
    LOGIN_VERIFY,
    LOOKALIKE_ORIGIN,
    REGISTER_OPTIONS,
    REGISTER_VERIFY,
    error_code,
    events,
)
from softkey import SoftKey, b64url, unb64url

from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee, suspend
from smishguard.audit import Action
from smishguard.passkeys.models import Challenge, Credential

# --------------------------------------------------------------------------------------------------------
# Sign-in
# --------------------------------------------------------------------------------------------------------


def test_sign_in_opens_a_session_updates_the_key_and_is_audited(client, employee, enrolled, sign_in):
    response = sign_in(enrolled)
    assert response.status_code == 200
    assert response.json() == {"email": "ada@example.com", "name": "Ada Lovelace", "redirect": "/"}
    assert response.cookies["sg_session"]["httponly"]
    credential = Credential.objects.get()
    assert credential.sign_count == 1
    assert credential.last_used_at is not None
    session = Session.objects.get()
    assert session.credential == credential
    me = client.get("/api/me").json()
    assert me["email"] == "ada@example.com"
    assert me["auth_method"] == "webauthn"
    (event,) = events(Action.SIGNIN_SUCCEEDED)
    assert event.subject == employee
    assert event.detail["key_id"] == credential.pk


def test_admin_is_sent_to_the_console_and_next_is_kept_local(db, client, enrol, sign_in, api_post):
    from smishguard.accounts.services import invite

    admin = add_employee(email="root@example.com", name="Root", is_admin=True)
    key = SoftKey()
    assert enrol(key, invite(admin).token).status_code == 201
    assert sign_in(key, email="root@example.com").json()["redirect"] == "/console/"
    for nxt, expected in [
        ("/portal/keys", "/portal/keys"),
        ("//evil.test/x", "/console/"),
        ("https://e.test", "/console/"),
    ]:
        options = api_post(LOGIN_OPTIONS, {"email": "root@example.com"}).json()
        body = {**key.assertion(options), "next": nxt}
        assert api_post(LOGIN_VERIFY, body).json()["redirect"] == expected


def test_discoverable_sign_in_without_email(employee, enrolled, api_post):
    options = api_post(LOGIN_OPTIONS, {}).json()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    response = api_post(LOGIN_VERIFY, enrolled.assertion(options))
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


def test_lookalike_origin_assertion_is_refused_and_recorded(client, employee, enrolled, api_post):
    """The Oktapus case: a phishing page on a lookalike domain relays our challenge to the key, which signs
    for the page's own origin and RP ID; the relayed assertion is refused and the origin seen recorded."""
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    relayed = enrolled.assertion(options, origin=LOOKALIKE_ORIGIN, rp_id="login-corp.test")
    response = api_post(LOGIN_VERIFY, relayed)
    assert response.status_code == 403
    assert error_code(response) == "origin_mismatch"
    assert "sg_session" not in response.cookies
    assert not Session.objects.exists()
    (event,) = events(Action.SIGNIN_FAILED)
    assert event.detail["reason"] == "origin_mismatch"
    assert event.detail["origin_seen"] == LOOKALIKE_ORIGIN
    assert event.subject == employee
    assert client.get("/api/me").status_code == 401


def test_wrong_rp_id_hash_is_refused(employee, enrolled, sign_in):
    response = sign_in(enrolled, rp_id="example.net", origin="http://localhost:8000")
    assert response.status_code == 403
    assert error_code(response) == "rp_id_mismatch"
    assert events(Action.SIGNIN_FAILED)[0].detail["reason"] == "rp_id_mismatch"


def test_missing_user_verification_is_refused_even_with_a_good_signature(employee, enrolled, sign_in):
    response = sign_in(enrolled, uv=False)
    assert response.status_code == 403
    assert error_code(response) == "user_verification_missing"
    assert not Session.objects.exists()


def test_counter_regression_refuses_and_flags_the_key(employee, enrolled, sign_in):
    assert sign_in(enrolled, sign_count=5).status_code == 200
    cloned = sign_in(enrolled, sign_count=3)
    assert cloned.status_code == 401
    assert error_code(cloned) == "counter_regressed"
    credential = Credential.objects.get()
    assert credential.flagged_at is not None
    assert credential.sign_count == 5
    (flag,) = events(Action.KEY_FLAGGED)
    assert (flag.detail["stored"], flag.detail["seen"]) == (5, 3)
    assert flag.subject == employee
    # Flagged keys are refused afterwards, even with a counter that moves on.
    later = sign_in(enrolled, email=None, sign_count=50)
    assert later.status_code == 401
    assert error_code(later) == "key_flagged"
    assert Session.objects.count() == 1


def test_equal_nonzero_counter_is_a_regression(employee, enrolled, sign_in):
    assert sign_in(enrolled, sign_count=7).status_code == 200
    assert error_code(sign_in(enrolled, sign_count=7)) == "counter_regressed"


def test_counter_regression_with_a_bad_signature_does_not_flag(employee, enrolled, sign_in):
    assert sign_in(enrolled, sign_count=5).status_code == 200
    forged = sign_in(enrolled, sign_count=1, corrupt="signature")
    assert error_code(forged) == "signature_invalid"
    assert Credential.objects.get().flagged_at is None


def test_authenticators_that_always_send_zero_keep_working(employee, token, enrol, sign_in):
    key = SoftKey(counter_step=0)
    assert enrol(key, token).status_code == 201
    assert [sign_in(key).status_code for _ in range(3)] == [200, 200, 200]


def test_replayed_assertion_is_refused(employee, enrolled, api_post):
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    assertion = enrolled.assertion(options)
    assert api_post(LOGIN_VERIFY, assertion).status_code == 200
    replay = api_post(LOGIN_VERIFY, assertion)
    assert replay.status_code == 400
    assert error_code(replay) == "challenge_replayed"
    assert Session.objects.count() == 1
    assert events(Action.SIGNIN_FAILED)[0].detail["reason"] == "challenge_replayed"


def test_expired_challenge_is_refused(employee, enrolled, api_post):
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1), tick=False):
        response = api_post(LOGIN_VERIFY, enrolled.assertion(options))
    assert response.status_code == 400
    assert error_code(response) == "challenge_expired"


def test_challenge_configured_ttl_is_honoured(employee, enrolled, api_post, set_policy):
    set_policy(challenge_ttl_seconds=30)
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    assert options["timeout"] == 30_000
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        assert error_code(api_post(LOGIN_VERIFY, enrolled.assertion(options))) == "challenge_expired"


def test_unknown_challenge_is_refused(employee, enrolled, api_post):
    fake_options = {"challenge": b64url(b"\x01" * 32), "rpId": "localhost"}
    response = api_post(LOGIN_VERIFY, enrolled.assertion(fake_options))
    assert response.status_code == 400
    assert error_code(response) == "challenge_not_found"


def test_registration_challenge_cannot_be_used_to_sign_in(employee, token, enrolled, api_post):
    from smishguard.accounts.services import invite

    other = add_employee(email="bo@example.com", name="Bo")
    options = api_post(REGISTER_OPTIONS, {"token": invite(other).token}).json()
    response = api_post(LOGIN_VERIFY, enrolled.assertion({"challenge": options["challenge"]}))
    assert error_code(response) == "challenge_not_found"


def test_unknown_credential_is_refused(employee, enrolled, sign_in):
    response = sign_in(SoftKey(), email=None)
    assert response.status_code == 401
    assert error_code(response) == "unknown_credential"
    assert events(Action.SIGNIN_FAILED)[0].detail["reason"] == "unknown_credential"


def test_key_of_another_employee_is_refused_for_an_email_bound_challenge(employee, enrolled, enrol, sign_in):
    from smishguard.accounts.services import invite

    bo = add_employee(email="bo@example.com", name="Bo")
    assert enrol(SoftKey(), invite(bo).token).status_code == 201
    response = sign_in(enrolled, email="bo@example.com")
    assert error_code(response) == "unknown_credential"


def test_user_handle_that_does_not_match_the_key_is_refused(employee, enrolled, sign_in):
    response = sign_in(enrolled, email=None, user_handle=b"someone else")
    assert response.status_code == 401
    assert error_code(response) == "unknown_credential"


def test_bad_signature_is_refused(employee, enrolled, sign_in):
    response = sign_in(enrolled, corrupt="signature")
    assert response.status_code == 401
    assert error_code(response) == "signature_invalid"


def test_suspended_employee_cannot_sign_in(employee, enrolled, sign_in):
    suspend(employee)
    response = sign_in(enrolled, email=None)
    assert response.status_code == 403
    assert error_code(response) == "employee_not_active"
    assert not Session.objects.exists()
    assert events(Action.SIGNIN_FAILED)[0].detail["reason"] == "employee_not_active"


def test_revoked_key_cannot_sign_in(employee, enrolled, sign_in):
    Credential.objects.update(revoked_at=timezone.now(), revoke_reason="test")
    response = sign_in(enrolled, email=None)
    assert error_code(response) == "credential_revoked"


def test_backup_eligibility_must_not_change(employee, enrolled, sign_in):
    response = sign_in(enrolled, be=True)
    assert response.status_code == 401
    assert error_code(response) == "backup_state_invalid"


def test_synced_key_refused_at_sign_in_once_policy_changes(employee, token, enrol, sign_in, set_policy):
    key = SoftKey(be=True, bs=True)
    assert enrol(key, token).status_code == 201
    set_policy(refuse_backup_eligible=True)
    assert error_code(sign_in(key)) == "backup_eligible_refused"


# --------------------------------------------------------------------------------------------------------
# Account enumeration
# --------------------------------------------------------------------------------------------------------


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


# Real staff, enrolled through the software authenticator: keys of several id lengths and transports, one or two
# keys each.  (length, transports) per key.
_USB = ("usb",)
_PHONE = ("hybrid", "internal")
_NFC = ("nfc", "usb")
_STAFF = [
    [(16, _PHONE)],
    [(32, _USB)],
    [(64, _NFC)],
    [(64, _NFC), (16, _PHONE)],
    [(32, _USB), (64, _NFC)],
    [(16, _PHONE)],
    [(64, _NFC)],
    [(32, _USB)],
]


def _enrol_staff(client, api_post):
    """Enrol _STAFF through the API (a second key from the portal session, signed in with the first)."""
    import os

    from smishguard.accounts.services import invite

    real = {}
    for n, keys in enumerate(_STAFF):
        email = f"staff{n}@example.com"
        person = add_employee(email=email, name=f"Staff {n}")
        token = invite(person).token
        first = SoftKey(credential_id=os.urandom(keys[0][0]), transports=keys[0][1])
        options = api_post(REGISTER_OPTIONS, {"token": token}).json()
        assert api_post(REGISTER_VERIFY, {**first.register(options), "token": token}).status_code == 201
        for length, transports in keys[1:]:
            signin = api_post(LOGIN_VERIFY, first.assertion(api_post(LOGIN_OPTIONS, {"email": email}).json()))
            assert signin.status_code == 200, signin.content
            extra = SoftKey(credential_id=os.urandom(length), transports=transports)
            options = api_post(REGISTER_OPTIONS, {})
            assert options.status_code == 200, options.content
            assert api_post(REGISTER_VERIFY, extra.register(options.json())).status_code == 201
            client.cookies.clear()
        real[email] = api_post(LOGIN_OPTIONS, {"email": email}).json()
    return real


def _profile(answers):
    """The observable make-up of many answers: id lengths, transports, and how many keys are offered."""
    lengths = {len(unb64url(c["id"])) for a in answers for c in a["allowCredentials"]}
    transports = {tuple(c["transports"]) for a in answers for c in a["allowCredentials"]}
    counts = {len(a["allowCredentials"]) for a in answers}
    return lengths, transports, counts


def test_login_options_for_unknown_suspended_and_keyless_emails_look_like_real_ones(db, client, api_post, settings):
    settings.SECRET_KEY = "a fixed secret key for this test, fifty characters long"
    real = _enrol_staff(client, api_post)
    add_employee(email="keyless@example.com", name="Keyless")
    suspend(add_employee(email="gone@example.com", name="Gone"))
    suspended = SoftKey(credential_id=b"s" * 32, transports=_USB)
    sus = add_employee(email="sus@example.com", name="Sus")
    from smishguard.accounts.services import invite

    token = invite(sus).token
    options = api_post(REGISTER_OPTIONS, {"token": token}).json()
    assert api_post(REGISTER_VERIFY, {**suspended.register(options), "token": token}).status_code == 201
    suspend(sus)

    emails = [f"nobody{n}@example.com" for n in range(60)] + ["keyless@example.com", "gone@example.com"]
    emails.append("sus@example.com")
    challenges = Challenge.objects.count()
    fake = {email: api_post(LOGIN_OPTIONS, {"email": email}).json() for email in emails}
    assert Challenge.objects.count() == challenges + len(emails)  # a challenge is written either way

    # The same set of id lengths, transports and key counts as the real staff's answers.
    assert _profile(fake.values()) == _profile(real.values())
    assert _profile(real.values()) == ({16, 32, 64}, {_USB, _PHONE, _NFC}, {1, 2})
    # Same members and value types as a real answer, key by key.
    some_real = next(iter(real.values()))
    for options in fake.values():
        assert set(options) == set(some_real)
        assert _shape(options) == _shape(some_real)
        assert all(set(c) == {"id", "type", "transports"} for c in options["allowCredentials"])
    # Deterministic per email (whatever its case), different between emails, never a real key's id.
    for email in ("nobody7@example.com", "gone@example.com", "sus@example.com"):
        again = api_post(LOGIN_OPTIONS, {"email": email.upper()}).json()
        assert again["allowCredentials"] == fake[email]["allowCredentials"]
        assert again["challenge"] != fake[email]["challenge"]
    fake_ids = [c["id"] for a in fake.values() for c in a["allowCredentials"]]
    real_ids = {c["id"] for a in real.values() for c in a["allowCredentials"]}
    assert len(set(fake_ids)) == len(fake_ids)
    assert not real_ids & set(fake_ids)
    assert b64url(suspended.credential_id) not in fake_ids


def test_login_options_without_real_keys_use_a_realistic_spread(db, api_post, settings):
    settings.SECRET_KEY = "a fixed secret key for this test, fifty characters long"
    from smishguard.passkeys.key_profile import forget_key_profile

    forget_key_profile()  # another test's staff may still be remembered by this process
    answers = [api_post(LOGIN_OPTIONS, {"email": f"x{n}@example.com"}).json() for n in range(60)]
    lengths, transports, counts = _profile(answers)
    assert len(lengths) >= 2  # not every fake key 64 bytes long
    assert len(transports) >= 2  # nor every one ["usb"]
    assert 1 in counts


def test_the_key_profile_statements_equal_their_orm_form(db, client, api_post):
    from collections import Counter

    from smishguard.accounts.models import Employee
    from smishguard.passkeys.key_profile import read_key_profile

    _enrol_staff(client, api_post)
    Credential.objects.filter(pk=Credential.objects.order_by("pk").first().pk).update(revoked_at=timezone.now())
    usable = Credential.objects.filter(
        revoked_at__isnull=True, flagged_at__isnull=True, employee__status=Employee.Status.ACTIVE
    )
    kinds = Counter((len(bytes(c.credential_id)), tuple(c.transports)) for c in usable)
    per_employee = Counter(Counter(c.employee_id for c in usable).values())
    profile = read_key_profile()
    assert profile.kinds == tuple(sorted(kinds.items()))
    assert profile.counts == tuple(sorted(per_employee.items()))
