"""Helpers for the tests of passkeys.ceremonies (no database): options, a registration verified end to end, a
policy with an MDS3 BLOB written to a temporary directory."""

from __future__ import annotations

from softkey import MdsSigner

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c

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
