"""Parsing what the browser sent (RegistrationResponseJSON, AuthenticationResponseJSON, clientDataJSON) into
frozen results; anything malformed is MalformedCredential."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException

from smishguard.passkeys.ceremonies.results import AuthenticationResponse, ClientData, RegistrationResponse
from smishguard.passkeys.errors import MalformedCredential

MAX_CREDENTIAL_ID = 1023  # WebAuthn: credential ids are at most 1023 bytes
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _as_mapping(data: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to parse
            raise MalformedCredential("the credential is not valid JSON") from None
    if not isinstance(data, Mapping):
        raise MalformedCredential("the credential must be a JSON object")
    return dict(data)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedCredential(f"{what} must be a base64url string")
    if not _BASE64URL.fullmatch(value):
        raise MalformedCredential(f"{what} is not valid base64url")
    try:
        return base64url_to_bytes(value)
    except (ValueError, TypeError):
        raise MalformedCredential(f"{what} is not valid base64url") from None


def client_data_from(client_data_json: bytes) -> ClientData:
    """Parse clientDataJSON; raises MalformedCredential."""
    try:
        parsed = parse_client_data_json(client_data_json)
        raw = json.loads(client_data_json)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled bytes is malformed input
        raise MalformedCredential("clientDataJSON is malformed") from None
    if not isinstance(parsed.origin, str) or not isinstance(parsed.type, str):
        raise MalformedCredential("clientDataJSON has a non-string origin or type")
    top = raw.get("topOrigin")
    return ClientData(
        type=str(parsed.type.value if hasattr(parsed.type, "value") else parsed.type),
        challenge=bytes(parsed.challenge),
        origin=parsed.origin,
        cross_origin=bool(raw.get("crossOrigin", False)),
        top_origin=top if isinstance(top, str) else None,
    )


def _common_checks(data: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    raw_id = _b64(data.get("rawId"), "rawId")
    if data.get("id") != bytes_to_base64url(raw_id) and _b64(data.get("id"), "id") != raw_id:
        raise MalformedCredential("id and rawId differ")
    if not raw_id or len(raw_id) > MAX_CREDENTIAL_ID:
        raise MalformedCredential("the credential id is empty or too long")
    if data.get("type") != "public-key":
        raise MalformedCredential('type must be "public-key"')
    response = data.get("response")
    if not isinstance(response, Mapping):
        raise MalformedCredential("response must be an object")
    return raw_id, dict(response)


def parse_registration_response(data: Mapping[str, Any] | str | bytes) -> RegistrationResponse:
    """RegistrationResponseJSON → RegistrationResponse; raises MalformedCredential."""
    data = _as_mapping(data)
    raw_id, response = _common_checks(data)
    client_data_json = _b64(response.get("clientDataJSON"), "response.clientDataJSON")
    _b64(response.get("attestationObject"), "response.attestationObject")
    transports = response.get("transports") or []
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise MalformedCredential("response.transports must be a list of strings")
    clean = {k: data[k] for k in ("id", "rawId", "type", "authenticatorAttachment") if k in data}
    clean["id"] = bytes_to_base64url(raw_id)
    clean["response"] = response
    try:
        credential = parse_registration_credential_json(clean)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise MalformedCredential(f"the registration response is malformed: {exc}") from None
    return RegistrationResponse(
        credential_id=raw_id,
        client_data=client_data_from(client_data_json),
        transports=tuple(t for t in transports[:10] if len(t) <= 32),
        credential=credential,
    )


def parse_authentication_response(data: Mapping[str, Any] | str | bytes) -> AuthenticationResponse:
    """AuthenticationResponseJSON → AuthenticationResponse; raises MalformedCredential."""
    data = _as_mapping(data)
    raw_id, response = _common_checks(data)
    client_data_json = _b64(response.get("clientDataJSON"), "response.clientDataJSON")
    _b64(response.get("authenticatorData"), "response.authenticatorData")
    _b64(response.get("signature"), "response.signature")
    user_handle = None
    if response.get("userHandle") not in (None, ""):
        user_handle = _b64(response.get("userHandle"), "response.userHandle")
    clean = {k: data[k] for k in ("id", "rawId", "type", "authenticatorAttachment") if k in data}
    clean["id"] = bytes_to_base64url(raw_id)
    clean["response"] = {k: v for k, v in response.items() if k != "userHandle" or v}
    try:
        credential = parse_authentication_credential_json(clean)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise MalformedCredential(f"the authentication response is malformed: {exc}") from None
    return AuthenticationResponse(
        credential_id=raw_id,
        user_handle=user_handle,
        client_data=client_data_from(client_data_json),
        credential=credential,
    )


def to_base64url(data: bytes) -> str:
    return bytes_to_base64url(data)


def from_base64url(value: str) -> bytes:
    """Decode base64url; raises MalformedCredential."""
    return _b64(value, "value")
