"""``X-Smishguard-Assertion``: the signed identity an admitted check hands to the app (docs/gateway.md).

The one module that imports the JWT library (PyJWT): the rest of smishguard asks it to sign claims with a key, to
describe a public key as a JWK, and to name a key (its RFC 7638 thumbprint); library errors never leave it.

The assertion is a JWT, ES256 (ECDSA on P-256 with SHA-256), its key named by ``kid`` in the JOSE header and
published at ``/.well-known/smishguard/jwks.json``.  Claims:

- ``iss``: smishguard's origin (``SMISHGUARD_ORIGIN``);
- ``aud``: the checked app's origin, ``scheme://host[:port]`` of the normalised URL (default ports left out);
- ``sub``: the employee's primary key as a string (stable: an email may change, the key never does, and is
  never reused); ``email``, ``name``, ``groups`` (a list, sorted);
- ``amr``: ``hwk`` (the session was opened with a hardware-bound key) or ``swk`` (a synced passkey: the key is
  backup-eligible), and ``user`` when the person was verified (UV) at the session's last key assertion;
- ``auth_time``: the session's last key assertion (sign-in or step-up), seconds since the epoch;
- ``iat``, ``exp`` (``iat`` + 60 s at most).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"
LIFETIME_SECONDS = 60  # exp - iat
HEADER = "X-Smishguard-Assertion"

HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"  # a synced passkey (backup-eligible): its private key lives in a cloud account too
USER_VERIFIED = "user"


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(public_key: ec.EllipticCurvePublicKey, *, kid: str) -> dict[str, str]:
    """The public key as a JWK (never ``d``), with its ``kid``, ``use`` and ``alg``."""
    jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    jwk = {name: jwk[name] for name in ("kty", "crv", "x", "y")}
    return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


def thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint (SHA-256, base64url): its ``kid``, the same on every host."""
    jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def amr(*, backup_eligible: bool | None, user_verified: bool) -> list[str]:
    """``["hwk", "user"]`` and its variants; no key method when the session's key is unknown (removed)."""
    methods = []
    if backup_eligible is not None:
        methods.append(SOFTWARE_KEY if backup_eligible else HARDWARE_KEY)
    if user_verified:
        methods.append(USER_VERIFIED)
    return methods


def claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    email: str,
    name: str,
    groups: list[str],
    methods: list[str],
    auth_time: int | None,
    now: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "email": email,
        "name": name,
        "groups": groups,
        "amr": methods,
    }
    if auth_time is not None:
        out["auth_time"] = auth_time
    out["iat"] = now
    out["exp"] = now + LIFETIME_SECONDS
    return out


def sign(payload: dict[str, Any], *, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact JWT: one ECDSA signature."""
    return jwt.encode(payload, private_key, algorithm=ALGORITHM, headers={"kid": kid})
