"""ceremonies.py on its own: attestation trust, the MDS3 BLOB, and the sign-in checks (no database)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from softkey import VIRTUAL_AAGUID, YUBIKEY5_AAGUID, MdsSigner, SoftKey, TestCA, mds_entry

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c
from smishguard.passkeys import errors

ORIGIN = "https://login.example.com"
RP_ID = "example.com"
OTHER_AAGUID = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"


def creation_options(policy=None):
    return c.registration_options(
        rp_id=RP_ID,
        rp_name="Example",
        user_id=b"\x01" * 32,
        user_name="ada@example.com",
        user_display_name="Ada",
        policy=policy or WebAuthnPolicy(),
    )


def register(key, policy=None, trust=c.EMPTY_TRUST, **kwargs):
    policy = policy or WebAuthnPolicy()
    options = creation_options(policy)
    response = c.parse_registration_response(key.register(options.to_dict(), origin=ORIGIN, **kwargs))
    return c.verify_registration(
        response=response,
        expected_challenge=options.challenge,
        rp_id=RP_ID,
        origin=ORIGIN,
        policy=policy,
        trust=trust,
    )


def trust_from(tmp_path, *, entries=(), signer=None, extra_roots=(), trusted_signer=None):
    signer = signer or MdsSigner.create()
    blob = tmp_path / "blob.jwt"
    blob.write_bytes(signer.blob(list(entries)))
    root = tmp_path / "mds-root.pem"
    root.write_bytes((trusted_signer or signer).root_pem)
    extra = None
    if extra_roots:
        extra = tmp_path / "extra.pem"
        extra.write_bytes(b"".join(extra_roots))
    return WebAuthnPolicy(
        mds_blob_path=str(blob), mds_root_cert_path=str(root), extra_root_certs_path=str(extra) if extra else None
    )


# --------------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------------


def test_registration_options_json_form():
    options = creation_options().to_dict()
    assert options["rp"] == {"id": RP_ID, "name": "Example"}
    assert options["attestation"] == "direct"
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "required",
    }
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]


def test_authentication_options_carry_allowed_keys():
    options = c.authentication_options(
        rp_id=RP_ID, policy=WebAuthnPolicy(), allow_credentials=[(b"\x02" * 16, ["usb", "bogus"])]
    )
    assert options.to_dict()["allowCredentials"] == [
        {"type": "public-key", "id": c.to_base64url(b"\x02" * 16), "transports": ["usb"]}
    ]
    assert len(options.challenge) >= 16


# --------------------------------------------------------------------------------------------------------
# Attestation and models
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_kwargs", "verified", "model"),
    [
        ({"attestation": "none"}, False, "Chromium virtual authenticator (unverified)"),
        ({"attestation": "packed-self"}, False, "Chromium virtual authenticator (unverified)"),
        ({"attestation": "packed"}, False, "Chromium virtual authenticator (unverified)"),  # no roots known
        ({"attestation": "none", "aaguid": str(uuid.UUID(int=7))}, False, "unverified"),
    ],
)
def test_without_an_allow_list_keys_are_accepted_and_marked_unverified(key_kwargs, verified, model):
    result = register(SoftKey(**key_kwargs))
    assert (result.attestation_verified, result.model) == (verified, model)


def test_attestation_chaining_to_a_configured_root_is_verified(tmp_path):
    ca = TestCA(intermediate=True)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(ca.root_pem)
    policy = WebAuthnPolicy(extra_root_certs_path=str(roots))
    result = register(SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=ca), policy, c.load_trust(policy))
    assert result.attestation_verified is True
    assert result.model == "YubiKey 5 Series"
    assert result.attestation_format == "packed"


def test_general_root_without_the_aaguid_extension_does_not_prove_the_model(tmp_path):
    ca = TestCA()
    roots = tmp_path / "roots.pem"
    roots.write_bytes(ca.root_pem)
    key = SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=ca, cert_aaguid=None)
    open_policy = WebAuthnPolicy(extra_root_certs_path=str(roots))
    assert register(key, open_policy, c.load_trust(open_policy)).attestation_verified is False
    strict = WebAuthnPolicy(extra_root_certs_path=str(roots), allowed_aaguids=(YUBIKEY5_AAGUID,))
    with pytest.raises(errors.AttestationUntrusted):
        register(
            SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=ca, cert_aaguid=None), strict, c.load_trust(strict)
        )


def test_certificate_naming_another_model_is_refused():
    key = SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", cert_aaguid=OTHER_AAGUID)
    with pytest.raises(errors.AttestationUntrusted, match="another model"):
        register(key)


def test_mds_names_the_model_and_vouches_for_its_root(tmp_path):
    ca = TestCA()
    policy = trust_from(tmp_path, entries=[mds_entry(YUBIKEY5_AAGUID, "YubiKey 5 (from MDS)", roots=[ca.root_der])])
    policy = WebAuthnPolicy(**{**policy.__dict__, "allowed_aaguids": (YUBIKEY5_AAGUID,)})
    key = SoftKey(aaguid=YUBIKEY5_AAGUID, attestation="packed", ca=ca, cert_aaguid=None)
    result = register(key, policy, c.load_trust(policy))
    assert result.attestation_verified is True
    assert result.model == "YubiKey 5 (from MDS)"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("FIDO_CERTIFIED_L1", "REVOKED"), "REVOKED"),
        (("USER_VERIFICATION_BYPASS",), "USER_VERIFICATION_BYPASS"),
        (("FIDO_CERTIFIED", "USER_KEY_PHYSICAL_COMPROMISE", "UPDATE_AVAILABLE"), "USER_KEY_PHYSICAL_COMPROMISE"),
        (("ATTESTATION_KEY_COMPROMISE",), "ATTESTATION_KEY_COMPROMISE"),
    ],
)
def test_mds_revoked_or_compromised_models_are_refused(tmp_path, statuses, expected):
    ca = TestCA()
    policy = trust_from(
        tmp_path, entries=[mds_entry(VIRTUAL_AAGUID, "Bad key", roots=[ca.root_der], statuses=statuses)]
    )
    with pytest.raises(errors.ModelRevoked) as caught:
        register(SoftKey(attestation="packed", ca=ca), policy, c.load_trust(policy))
    assert caught.value.detail["status"] == expected
    assert caught.value.code == "model_revoked"


def test_mds_certified_model_is_accepted(tmp_path):
    ca = TestCA()
    policy = trust_from(tmp_path, entries=[mds_entry(VIRTUAL_AAGUID, "Good key", roots=[ca.root_der])])
    result = register(SoftKey(attestation="packed", ca=ca), policy, c.load_trust(policy))
    assert (result.attestation_verified, result.model) == (True, "Good key")


def test_mds_compromised_attestation_certificate_only_refuses_that_certificate(tmp_path):
    ca = TestCA()
    bad_key = SoftKey(attestation="packed", ca=ca)
    bad_key._attestation_key()
    entry = mds_entry(
        VIRTUAL_AAGUID,
        "Batch with one leaked key",
        roots=[ca.root_der],
        statuses=("FIDO_CERTIFIED", "ATTESTATION_KEY_COMPROMISE"),
        compromised_certificate=bad_key._x5c[0],
    )
    policy = trust_from(tmp_path, entries=[entry])
    trust = c.load_trust(policy)
    with pytest.raises(errors.ModelRevoked):
        register(bad_key, policy, trust)
    assert register(SoftKey(attestation="packed", ca=ca), policy, trust).model == "Batch with one leaked key"


def test_mds_blob_signed_by_another_root_is_not_trusted(tmp_path):
    policy = trust_from(tmp_path, entries=[mds_entry(VIRTUAL_AAGUID, "x")], trusted_signer=MdsSigner.create())
    with pytest.raises(c.TrustStoreError, match="does not verify"):
        c.load_trust(policy)


def test_mds_blob_without_its_root_is_refused(tmp_path):
    policy = trust_from(tmp_path, entries=[])
    with pytest.raises(c.TrustStoreError):
        c.load_trust(WebAuthnPolicy(mds_blob_path=policy.mds_blob_path))
    with pytest.raises(c.TrustStoreError):
        c.load_trust(
            WebAuthnPolicy(mds_blob_path=str(tmp_path / "missing"), mds_root_cert_path=policy.mds_root_cert_path)
        )


def test_trust_store_is_reloaded_when_the_blob_changes(tmp_path):
    signer = MdsSigner.create()
    policy = trust_from(tmp_path, signer=signer, entries=[mds_entry(VIRTUAL_AAGUID, "First name")])
    assert c.load_trust(policy).model_name(VIRTUAL_AAGUID) == "First name"
    assert c.load_trust(policy) is c.load_trust(policy)
    (tmp_path / "blob.jwt").write_bytes(signer.blob([mds_entry(VIRTUAL_AAGUID, "Second name")], number=2))
    later = time.time() + 5
    os.utime(tmp_path / "blob.jwt", (later, later))
    assert c.load_trust(policy).model_name(VIRTUAL_AAGUID) == "Second name"


# --------------------------------------------------------------------------------------------------------
# Sign-in checks
# --------------------------------------------------------------------------------------------------------


def assertion_result(key, verified, *, policy=None, stored=None, backup_eligible=False, **kwargs):
    options = c.authentication_options(rp_id=RP_ID, policy=policy or WebAuthnPolicy())
    response = c.parse_authentication_response(key.assertion(options.to_dict(), **kwargs))
    return c.verify_authentication(
        response=response,
        expected_challenge=options.challenge,
        rp_id=RP_ID,
        origin=ORIGIN,
        policy=policy or WebAuthnPolicy(),
        public_key=verified.public_key,
        stored_sign_count=verified.sign_count if stored is None else stored,
        backup_eligible=backup_eligible,
    )


@pytest.fixture
def key_and_record():
    key = SoftKey(rp_id=RP_ID, origin=ORIGIN)
    return key, register(key)


def test_good_assertion(key_and_record):
    key, record = key_and_record
    result = assertion_result(key, record)
    assert (result.sign_count, result.user_verified, result.backed_up) == (1, True, False)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"origin": "https://login-corp.test"}, errors.OriginMismatch),
        ({"origin": "https://login.example.com:8443"}, errors.OriginMismatch),
        ({"rp_id": "login.example.com"}, errors.RPIDMismatch),
        ({"uv": False}, errors.UserVerificationMissing),
        ({"up": False}, errors.UserPresenceMissing),
        ({"bs": True}, errors.MalformedCredential),
        ({"kind": "webauthn.create"}, errors.MalformedCredential),
        ({"corrupt": "signature"}, errors.SignatureInvalid),
        ({"corrupt": "authenticator_data"}, errors.MalformedCredential),
        ({"sign_count": 0, "stored": 4}, errors.CounterRegressed),
    ],
)
def test_assertion_refusals(key_and_record, kwargs, error):
    key, record = key_and_record
    stored = kwargs.pop("stored", None)
    with pytest.raises(error):
        assertion_result(key, record, stored=stored, **kwargs)


def test_origin_mismatch_carries_the_origin_seen(key_and_record):
    key, record = key_and_record
    with pytest.raises(errors.OriginMismatch) as caught:
        assertion_result(key, record, origin="https://login-corp.test")
    assert caught.value.origin_seen == "https://login-corp.test"
    assert caught.value.detail == {"origin_seen": "https://login-corp.test"}


@pytest.mark.parametrize("data", [b"{", "[]", {"id": "x"}, {"id": "AA", "rawId": "AA", "type": "public-key"}])
def test_parse_refuses_malformed_credentials(data):
    with pytest.raises(errors.MalformedCredential):
        c.parse_authentication_response(data)
    with pytest.raises(errors.MalformedCredential):
        c.parse_registration_response(data)


def test_malformed_credential_is_a_value_error():
    assert issubclass(errors.MalformedCredential, ValueError)
    assert errors.MalformedCredential.status == 400
