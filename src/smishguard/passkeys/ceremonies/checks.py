"""Checks both ceremonies make, in the order of the spec: clientDataJSON (type, challenge, origin, not in a
frame), the RP ID hash, and the user flags against the policy."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.ceremonies.results import ClientData
from smishguard.passkeys.errors import (
    ChallengeNotFound,
    MalformedCredential,
    OriginMismatch,
    RPIDMismatch,
    UserPresenceMissing,
    UserVerificationMissing,
)

MAX_ORIGIN_SHOWN = 200


def origins(origin: str | Sequence[str]) -> tuple[str, ...]:
    return (origin,) if isinstance(origin, str) else tuple(origin)


def check_client_data(cd: ClientData, *, expected_type: str, challenge: bytes, origin: str | Sequence[str]) -> None:
    if cd.type != expected_type:
        raise MalformedCredential(f"clientDataJSON.type is {cd.type[:40]!r}, expected {expected_type!r}")
    if not hmac.compare_digest(cd.challenge, challenge):
        raise ChallengeNotFound("the response answers another challenge")
    if cd.origin not in origins(origin):
        raise OriginMismatch(
            f"the response was made for {cd.origin[:MAX_ORIGIN_SHOWN]}, not this site",
            origin_seen=cd.origin[:MAX_ORIGIN_SHOWN],
        )
    if cd.cross_origin:
        seen = (cd.top_origin or cd.origin)[:MAX_ORIGIN_SHOWN]
        raise OriginMismatch(f"the response was made inside a frame on {seen}", origin_seen=seen)


def check_rp_id_hash(rp_id_hash: bytes, rp_id: str) -> None:
    if not hmac.compare_digest(rp_id_hash, hashlib.sha256(rp_id.encode()).digest()):
        raise RPIDMismatch(f"the authenticator signed for another relying party than {rp_id}")


def check_user(flags: Any, policy: WebAuthnPolicy) -> None:
    if not flags.up:
        raise UserPresenceMissing()
    if policy.user_verification == "required" and not flags.uv:
        raise UserVerificationMissing()
    if flags.bs and not flags.be:
        raise MalformedCredential("authenticator data says backed up but not backup eligible")
