"""passkeys.registration through the WebAuthn API with a software authenticator: enrolment, its policy and
every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from passkeys_api import (
    LOOKALIKE_ORIGIN,
    REGISTER_OPTIONS,
    REGISTER_VERIFY,
    error_code,
    events,
)
from softkey import YUBIKEY5_AAGUID, SoftKey, TestCA, b64url

from smishguard.accounts.models import EnrolmentLink
from smishguard.audit import Action
from smishguard.passkeys.models import Challenge, Credential

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
    response = enrol(SoftKey(), token, name="bad\x07name")  # (a NUL is refused earlier, by the API's parser)
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
