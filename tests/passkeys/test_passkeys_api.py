"""The WebAuthn API end to end with a software authenticator: enrolment, sign-in and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from softkey import YUBIKEY5_AAGUID, SoftKey, TestCA, b64url, unb64url

from smishguard.accounts.models import EnrolmentLink, Session
from smishguard.accounts.services import add_employee, suspend
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.passkeys.models import Challenge, Credential

LOOKALIKE_ORIGIN = "https://login-corp.test"
REGISTER_OPTIONS = "/api/webauthn/register/options"
REGISTER_VERIFY = "/api/webauthn/register/verify"
LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"


def events(action: Action) -> list[Event]:
    return list(Event.objects.filter(action=action.value).order_by("at", "pk"))


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --------------------------------------------------------------------------------------------------------
# Enrolment
# --------------------------------------------------------------------------------------------------------


def test_enrolment_stores_the_key_consumes_the_link_and_is_audited(employee, token, enrol):
    response = enrol(SoftKey(), token, name="Blue key")
    assert response.status_code == 201
    body = response.json()
    assert body["aaguid"] == "01020304-0506-0708-0102-030405060708"
    assert body["model"] == "Chromium virtual authenticator (unverified)"
    credential = Credential.objects.get(employee=employee)
    assert b64url(bytes(credential.credential_id)) == body["credential_id"]
    assert credential.name == "Blue key"
    assert credential.attestation_format == "none"
    assert credential.attestation_verified is False
    assert len(bytes(credential.user_handle)) == 32
    assert EnrolmentLink.objects.get(employee=employee).used_at is not None
    registered = events(Action.KEY_REGISTERED)
    assert len(registered) == 1
    assert registered[0].subject == employee
    assert registered[0].detail["via"] == "enrolment link"
    assert len(events(Action.ENROLMENT_USED)) == 1


def test_registration_options_follow_the_policy(employee, token, api_post):
    options = api_post(REGISTER_OPTIONS, {"token": token}).json()
    assert options["rp"] == {"id": "localhost", "name": "smishguard"}
    assert options["user"]["name"] == "ada@example.com"
    assert options["attestation"] == "direct"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["timeout"] == 300_000
    challenge = Challenge.objects.get()
    assert challenge.purpose == "register"
    assert challenge.employee == employee
    assert b64url(bytes(challenge.challenge)) == options["challenge"]
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)


def test_default_key_name_counts_the_keys(employee, enrolled):
    assert Credential.objects.get(employee=employee).name == "Security key 1"


def test_enrolment_token_cannot_be_used_twice(employee, token, enrol, api_post):
    assert enrol(SoftKey(), token).status_code == 201
    again = api_post(REGISTER_OPTIONS, {"token": token})
    assert again.status_code == 400
    assert error_code(again) == "enrolment_link_invalid"


def test_two_ceremonies_started_from_one_link_store_only_one_key(employee, token, api_post):
    first, second = SoftKey(), SoftKey()
    options_1 = api_post(REGISTER_OPTIONS, {"token": token}).json()
    options_2 = api_post(REGISTER_OPTIONS, {"token": token}).json()
    ok = api_post(REGISTER_VERIFY, {**first.register(options_1), "token": token})
    refused = api_post(REGISTER_VERIFY, {**second.register(options_2), "token": token})
    assert ok.status_code == 201
    assert refused.status_code == 400
    assert error_code(refused) == "enrolment_link_invalid"
    assert Credential.objects.count() == 1
    assert events(Action.KEY_REGISTRATION_REFUSED)[-1].detail["reason"] == "enrolment_link_invalid"


def test_expired_enrolment_token_is_refused(employee, token, api_post):
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        response = api_post(REGISTER_OPTIONS, {"token": token})
    assert response.status_code == 400
    assert error_code(response) == "enrolment_link_invalid"
    assert "expired" in response.json()["error"]["message"]


def test_unknown_enrolment_token_is_refused(db, api_post):
    response = api_post(REGISTER_OPTIONS, {"token": "not-a-real-token"})
    assert response.status_code == 400
    assert error_code(response) == "enrolment_link_invalid"


def test_registration_without_token_or_session_is_refused(db, api_post):
    response = api_post(REGISTER_OPTIONS, {})
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_replayed_registration_response_is_refused(employee, token, api_post):
    key = SoftKey()
    options = api_post(REGISTER_OPTIONS, {"token": token}).json()
    body = {**key.register(options), "token": token}
    assert api_post(REGISTER_VERIFY, body).status_code == 201
    replay = api_post(REGISTER_VERIFY, body)
    assert replay.status_code == 400
    assert error_code(replay) == "challenge_replayed"
    assert Credential.objects.count() == 1


@pytest.mark.parametrize(
    "case",
    [
        ({"origin": LOOKALIKE_ORIGIN}, 403, "origin_mismatch"),
        ({"rp_id": "login-corp.test", "origin": "http://localhost:8000"}, 403, "rp_id_mismatch"),
        ({"uv": False}, 403, "user_verification_missing"),
        ({"up": False}, 403, "user_presence_missing"),
        ({"kind": "webauthn.get"}, 400, "malformed_credential"),
        ({"corrupt": "cbor"}, 400, "malformed_credential"),
        ({"corrupt": "client_data"}, 400, "malformed_credential"),
        ({"attestation": "packed-self", "corrupt": "attestation_signature"}, 400, "registration_invalid"),
    ],
)
def test_bad_registrations_are_refused_leaving_nothing_half_written(employee, token, enrol, case):
    kwargs, status, code = case
    response = enrol(SoftKey(), token, **kwargs)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not Credential.objects.exists()
    assert EnrolmentLink.objects.get(employee=employee).used_at is None
    assert not events(Action.KEY_REGISTERED)
    refusals = events(Action.KEY_REGISTRATION_REFUSED) + events(Action.POLICY_REFUSED)
    assert [e.detail["reason"] for e in refusals] == [code]


def test_registration_from_lookalike_origin_records_the_origin_seen(employee, token, enrol):
    response = enrol(SoftKey(), token, origin=LOOKALIKE_ORIGIN)
    assert response.json()["error"]["detail"]["origin_seen"] == LOOKALIKE_ORIGIN
    (event,) = events(Action.KEY_REGISTRATION_REFUSED)
    assert event.detail["origin_seen"] == LOOKALIKE_ORIGIN
    assert event.subject == employee


def test_user_verification_preferred_accepts_a_key_without_uv(employee, token, enrol, set_policy, sign_in):
    set_policy(user_verification="preferred")
    key = SoftKey(uv=False)
    assert enrol(key, token).status_code == 201
    assert sign_in(key).status_code == 200


def test_invalid_key_name_is_refused_before_anything_is_written(employee, token, enrol):
    response = enrol(SoftKey(), token, name="bad\x00name")
    assert response.status_code == 400
    assert error_code(response) == "invalid_key_name"
    assert not Credential.objects.exists()
    assert EnrolmentLink.objects.get(employee=employee).used_at is None


# --------------------------------------------------------------------------------------------------------
# Enrolment policy
# --------------------------------------------------------------------------------------------------------


def test_model_not_on_the_allow_list_is_refused(employee, token, enrol, set_policy):
    set_policy(allowed_aaguids=(YUBIKEY5_AAGUID,))
    response = enrol(SoftKey(), token)
    assert response.status_code == 403
    assert error_code(response) == "model_not_allowed"
    (event,) = events(Action.POLICY_REFUSED)
    assert event.detail["aaguid"] == "01020304-0506-0708-0102-030405060708"


@pytest.mark.parametrize("attestation", ["none", "packed-self"])
def test_allow_list_refuses_unattested_keys_claiming_an_allowed_model(employee, token, enrol, set_policy, attestation):
    set_policy(allowed_aaguids=(YUBIKEY5_AAGUID,))
    response = enrol(SoftKey(aaguid=YUBIKEY5_AAGUID, attestation=attestation), token)
    assert response.status_code == 403
    assert error_code(response) == "attestation_untrusted"
    assert not Credential.objects.exists()


def test_allow_list_accepts_an_attested_key_from_a_configured_root(employee, token, enrol, set_policy, tmp_path):
    ca = TestCA()
    roots = tmp_path / "roots.pem"
    roots.write_bytes(ca.root_pem)
    set_policy(allowed_aaguids=(YUBIKEY5_AAGUID.upper(),), extra_root_certs_path=str(roots))
    response = enrol(SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=ca), token)
    assert response.status_code == 201, response.content
    assert response.json()["model"] == "YubiKey 5 Series"
    credential = Credential.objects.get()
    assert credential.attestation_verified is True
    assert credential.attestation_format == "packed"


def test_allow_list_refuses_a_chain_to_an_unknown_root(employee, token, enrol, set_policy, tmp_path):
    roots = tmp_path / "roots.pem"
    roots.write_bytes(TestCA().root_pem)
    set_policy(allowed_aaguids=(YUBIKEY5_AAGUID,), extra_root_certs_path=str(roots))
    response = enrol(SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=TestCA()), token)
    assert response.status_code == 403
    assert error_code(response) == "attestation_untrusted"


def test_model_revoked_in_the_mds_blob_is_refused(employee, token, enrol, set_policy, tmp_path):
    from softkey import MdsSigner, mds_entry

    signer = MdsSigner.create()
    (tmp_path / "blob.jwt").write_bytes(
        signer.blob([mds_entry(YUBIKEY5_AAGUID, "Recalled key", statuses=("FIDO_CERTIFIED", "REVOKED"))])
    )
    (tmp_path / "root.pem").write_bytes(signer.root_pem)
    set_policy(mds_blob_path=str(tmp_path / "blob.jwt"), mds_root_cert_path=str(tmp_path / "root.pem"))
    response = enrol(SoftKey(aaguid=YUBIKEY5_AAGUID), token)
    assert response.status_code == 403
    assert error_code(response) == "model_revoked"
    (event,) = events(Action.POLICY_REFUSED)
    assert (event.detail["status"], event.detail["aaguid"]) == ("REVOKED", YUBIKEY5_AAGUID)
    assert not Credential.objects.exists()


def test_unverifiable_mds_blob_stops_enrolment_with_a_clear_error(employee, token, enrol, set_policy, tmp_path):
    (tmp_path / "blob.jwt").write_bytes(b"not.a.blob")
    (tmp_path / "root.pem").write_bytes(TestCA().root_pem)
    set_policy(mds_blob_path=str(tmp_path / "blob.jwt"), mds_root_cert_path=str(tmp_path / "root.pem"))
    response = enrol(SoftKey(), token)
    assert response.status_code == 503
    assert error_code(response) == "trust_store_unavailable"
    assert not Credential.objects.exists()


def test_backup_eligible_passkey_refused_when_configured(employee, token, enrol, set_policy):
    set_policy(refuse_backup_eligible=True)
    response = enrol(SoftKey(be=True, bs=True), token)
    assert response.status_code == 403
    assert error_code(response) == "backup_eligible_refused"
    assert events(Action.POLICY_REFUSED)[0].detail["reason"] == "backup_eligible_refused"


def test_backup_eligible_passkey_accepted_by_default(employee, token, enrol):
    assert enrol(SoftKey(be=True, bs=True), token).status_code == 201
    credential = Credential.objects.get()
    assert (credential.backup_eligible, credential.backed_up) == (True, True)


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


# --------------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------------


def _good_assertion(api_post, key):
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    return key.assertion(options)


@pytest.mark.parametrize(
    "case",
    [
        (lambda _: "{not json", 400, "malformed_json"),
        (lambda _: "[1, 2]", 400, "invalid_request"),
        (lambda a: {**a, "response": "nope"}, 400, "invalid_request"),
        (lambda a: {**a, "rawId": 12}, 400, "invalid_request"),
        (lambda a: {**a, "rawId": "!!!not base64!!!", "id": "!!!not base64!!!"}, 400, "malformed_credential"),
        (lambda a: {**a, "id": b64url(b"other")}, 400, "malformed_credential"),
        (lambda a: {**a, "type": "password"}, 400, "malformed_credential"),
        (
            lambda a: {**a, "response": {**a["response"], "clientDataJSON": b64url(b"\xff\xfe")}},
            400,
            "malformed_credential",
        ),
        (
            lambda a: {**a, "response": {**a["response"], "authenticatorData": b64url(b"short")}},
            400,
            "malformed_credential",
        ),
        (lambda a: {**a, "response": {**a["response"], "signature": "***"}}, 400, "malformed_credential"),
        (lambda a: {k: v for k, v in a.items() if k != "response"}, 400, "invalid_request"),
    ],
)
def test_malformed_assertions_get_a_clear_4xx(employee, enrolled, api_post, case):
    mutate, status, code = case
    response = api_post(LOGIN_VERIFY, mutate(_good_assertion(api_post, enrolled)))
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not Session.objects.exists()


def test_malformed_registration_base64_and_cbor(employee, token, api_post):
    options = api_post(REGISTER_OPTIONS, {"token": token}).json()
    body = {**SoftKey().register(options), "token": token}
    body["response"] = {**body["response"], "attestationObject": b64url(b"\x9f\x00\x01")}
    response = api_post(REGISTER_VERIFY, body)
    assert response.status_code == 400
    assert error_code(response) == "malformed_credential"
    assert not Credential.objects.exists()


def test_oversize_body_is_refused(db, api_post):
    response = api_post(LOGIN_VERIFY, '{"x": "' + "a" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert error_code(response) == "body_too_large"


def test_oversize_fields_are_refused(employee, enrolled, api_post):
    assertion = _good_assertion(api_post, enrolled)
    assertion["response"]["clientDataJSON"] = "A" * 10_000
    response = api_post(LOGIN_VERIFY, assertion)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


def test_openapi_schema_lists_exactly_the_webauthn_endpoints(db, client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert sorted(p for p in paths if "/webauthn/" in p) == [
        "/api/webauthn/keys",
        "/api/webauthn/keys/{key_id}",
        "/api/webauthn/login/options",
        "/api/webauthn/login/verify",
        "/api/webauthn/register/options",
        "/api/webauthn/register/verify",
        "/api/webauthn/stepup/options",
        "/api/webauthn/stepup/verify",
    ]


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
