"""passkeys.ceremonies.attestation: registration, attestation trust and models (no database)."""

from __future__ import annotations

import uuid

import pytest
from ceremony_helpers import OTHER_AAGUID, register, trust_from
from softkey import VIRTUAL_AAGUID, YUBIKEY5_AAGUID, SoftKey, TestCA, mds_entry

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c
from smishguard.passkeys import errors


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
