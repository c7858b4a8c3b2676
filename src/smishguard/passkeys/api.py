"""WebAuthn endpoints: registration and sign-in ceremonies, and the signed-in employee's keys.

Options and responses are the W3C WebAuthn Level 3 JSON forms, so the browser side is
``PublicKeyCredential.parseCreationOptionsFromJSON(...)`` / ``credential.toJSON()``.  This module never
imports py_webauthn: ceremonies does, and registration, signin, stepup and keys hold the database work.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from ninja import Field, Router
from ninja.responses import Status
from ninja.utils import check_csrf
from pydantic import BaseModel, ConfigDict

from smishguard.accounts.guards import JSON_OBJECT_BODY, same_origin_json
from smishguard.accounts.middleware import set_session_cookie
from smishguard.accounts.models import Employee, Session
from smishguard.accounts.redirects import MAX_LENGTH as REDIRECT_MAX_LENGTH
from smishguard.accounts.redirects import safe_return_url
from smishguard.accounts.sessions import require_fresh_assertion
from smishguard.accounts.throttle import enrolment_account, limit_account
from smishguard.errors import NotAuthenticated, PermissionDenied
from smishguard.passkeys import keys, registration, signin, stepup
from smishguard.passkeys.ceremonies import to_base64url
from smishguard.passkeys.errors import MalformedCredential
from smishguard.passkeys.models import Credential

router = Router(tags=["webauthn"])

ERRORS: dict[int, type] = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 413: dict, 415: dict, 503: dict}
ADDING_A_KEY = "adding a security key"


# --------------------------------------------------------------------------------------------------------
# Bodies: plain pydantic models.  ninja's Schema adds a validator that reads Django model instances, which a
# JSON body never is; on the sign-in endpoints it cost about 2% of the server's time.
# --------------------------------------------------------------------------------------------------------


class _Open(BaseModel):
    """Extra members (clientExtensionResults, publicKey, ...) are allowed and ignored or passed through."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RegisterOptionsIn(BaseModel):
    token: str | None = Field(None, max_length=128, description="the enrolment link's token; omit when signed in")


class AttestationResponseIn(_Open):
    client_data_json: str = Field(alias="clientDataJSON", max_length=8192)
    attestation_object: str = Field(alias="attestationObject", max_length=65536)
    transports: list[str] | None = Field(None, max_length=10)


class RegisterVerifyIn(_Open):
    """RegistrationResponseJSON plus the enrolment token and an optional key name."""

    id: str = Field(max_length=1400)
    raw_id: str = Field(alias="rawId", max_length=1400)
    type: str = Field(max_length=32)
    response: AttestationResponseIn
    authenticator_attachment: str | None = Field(None, alias="authenticatorAttachment", max_length=32)
    token: str | None = Field(None, max_length=128)
    name: str | None = Field(None, max_length=200)


class LoginOptionsIn(BaseModel):
    email: str | None = Field(None, max_length=254, description="omit for a discoverable credential")


class AssertionResponseIn(_Open):
    client_data_json: str = Field(alias="clientDataJSON", max_length=8192)
    authenticator_data: str = Field(alias="authenticatorData", max_length=8192)
    signature: str = Field(max_length=2048)
    user_handle: str | None = Field(None, alias="userHandle", max_length=128)


class LoginVerifyIn(_Open):
    """AuthenticationResponseJSON (and optionally ``next``, where to go after signing in: a path on this site, or
    a URL on a host the gateway protects; ``accounts.redirects`` decides)."""

    id: str = Field(max_length=1400)
    raw_id: str = Field(alias="rawId", max_length=1400)
    type: str = Field(max_length=32)
    response: AssertionResponseIn
    authenticator_attachment: str | None = Field(None, alias="authenticatorAttachment", max_length=32)
    next: str | None = Field(None, max_length=REDIRECT_MAX_LENGTH)


class RenameIn(BaseModel):
    name: str = Field(max_length=200)


def _credential_json(payload: _Open) -> dict[str, Any]:
    data = payload.model_dump(by_alias=True, exclude_none=True)
    for key in ("token", "name", "next"):
        data.pop(key, None)
    return data


def _json(body: dict[str, Any]) -> HttpResponse:
    """A JSON answer with its Content-Length (so the server need not frame it in chunks)."""
    data = json.dumps(body).encode()
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Length"] = str(len(data))
    return response


def _signed_in(request: HttpRequest) -> Employee:
    session = getattr(request, "sg_session", None)
    if session is None:
        raise NotAuthenticated("sign in first")
    return session.employee


def _session(request: HttpRequest) -> Session:
    session = getattr(request, "sg_session", None)
    if session is None:
        raise NotAuthenticated("sign in first")
    return session


def _csrf(request: HttpRequest) -> None:
    """Session-authenticated calls that change state must carry the CSRF token (X-CSRFToken header)."""
    if check_csrf(request) is not None:
        raise PermissionDenied("the CSRF token is missing or wrong; reload the page")


def _enrolment_account(request: HttpRequest, token: str | None) -> str:
    if token:
        return enrolment_account(token)
    session = getattr(request, "sg_session", None)
    return f"employee:{session.employee_id}" if session is not None else "employee:none"


def key_dict(credential: Credential) -> dict[str, Any]:
    return {
        "id": credential.pk,
        "name": credential.name,
        "credential_id": to_base64url(bytes(credential.credential_id)),
        "aaguid": credential.aaguid,
        "model": credential.model,
        "attestation_verified": credential.attestation_verified,
        "backup_eligible": credential.backup_eligible,
        "backed_up": credential.backed_up,
        "created_at": credential.created_at.isoformat(),
        "last_used_at": credential.last_used_at.isoformat() if credential.last_used_at else None,
        "flagged": credential.flagged_at is not None,
    }


# --------------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------------


@router.post(
    "/register/options",
    summary="Creation options for registering a security key",
    description="With an enrolment token: for the employee it names.  Without: a backup key for the signed-in "
    "employee.  Answers PublicKeyCredentialCreationOptionsJSON.",
    response={200: dict, **ERRORS},
)
@same_origin_json
def register_options(request: HttpRequest, payload: RegisterOptionsIn) -> dict[str, Any]:
    limit_account(request, "enrol", _enrolment_account(request, payload.token))
    if payload.token:
        return registration.begin_registration(token=payload.token).to_dict()
    employee = _signed_in(request)
    _csrf(request)
    require_fresh_assertion(request, what=ADDING_A_KEY)
    return registration.begin_registration(employee=employee).to_dict()


@router.post(
    "/register/verify",
    summary="Verify a new security key and store it",
    description="RegistrationResponseJSON plus the enrolment token (consumed, once) and an optional key name.",
    response={201: dict, **ERRORS},
)
@same_origin_json
def register_verify(request: HttpRequest, payload: RegisterVerifyIn) -> Status:
    limit_account(request, "enrol", _enrolment_account(request, payload.token))
    employee = None
    if not payload.token:
        employee = _signed_in(request)
        _csrf(request)
        require_fresh_assertion(request, what=ADDING_A_KEY)
    credential = registration.finish_registration(
        _credential_json(payload), token=payload.token, name=payload.name, employee=employee, request=request
    )
    body = key_dict(credential)
    return Status(
        201,
        {
            "credential_id": body["credential_id"],
            "aaguid": credential.aaguid,
            "model": credential.model,
            "id": credential.pk,
            "name": credential.name,
            "attestation_verified": credential.attestation_verified,
        },
    )


# --------------------------------------------------------------------------------------------------------
# Sign-in
# --------------------------------------------------------------------------------------------------------


@router.post(
    "/login/options",
    summary="Request options for signing in",
    description="With an email: that employee's keys (an unknown email gets an answer of the same shape).  "
    "Without: for a discoverable credential.  Answers PublicKeyCredentialRequestOptionsJSON.",
    response={200: dict, **ERRORS},
)
def login_options(request: HttpRequest, payload: LoginOptionsIn) -> HttpResponse:
    # Answered directly (what ninja would render for this dict, with its length) on the sign-in hot path.
    # (Rate limits per address and per email, known or not alike: accounts.throttle.RateLimitMiddleware.)
    return _json(signin.begin_login(email=payload.email).to_dict())


@router.post(
    "/login/verify",
    summary="Verify an assertion and open a session",
    description="AuthenticationResponseJSON → 200 {email, name, redirect} and the session cookie.",
    response={200: dict, **ERRORS},
)
@same_origin_json
def login_verify(request: HttpRequest, payload: LoginVerifyIn) -> HttpResponse:
    signed_in = signin.finish_login(_credential_json(payload), request=request)
    default = "/console/" if signed_in.employee.is_admin else "/"
    body = {**signed_in.to_dict(), "redirect": safe_return_url(payload.next, request=request, default=default)}
    response = _json(body)
    set_session_cookie(response, signed_in.token)
    rotate_token(request)  # a new CSRF token with the new session (the middleware sets its cookie)
    return response


# --------------------------------------------------------------------------------------------------------
# Step-up: touch one of my keys again while signed in
# --------------------------------------------------------------------------------------------------------


class StepUpVerifyIn(_Open):
    """AuthenticationResponseJSON from navigator.credentials.get() with the step-up options (and optionally
    ``next``, where to go afterwards: answered as ``redirect`` when ``accounts.redirects`` allows it)."""

    id: str = Field(max_length=1400)
    raw_id: str = Field(alias="rawId", max_length=1400)
    type: str = Field(max_length=32)
    response: AssertionResponseIn
    authenticator_attachment: str | None = Field(None, alias="authenticatorAttachment", max_length=32)
    next: str | None = Field(None, max_length=REDIRECT_MAX_LENGTH)


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic model's JSON schema with its ``#/$defs/...`` references written out, for the OpenAPI document
    (where "#" is the document, not the model's schema)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


_STEPUP_BODY = _inline_refs(StepUpVerifyIn.model_json_schema(by_alias=True))


@router.post(
    "/stepup/options",
    summary="Request options for a step-up (a fresh key touch while signed in)",
    description="Session cookie, Content-Type application/json from our own origin and the CSRF token "
    "(X-CSRFToken).  Offers only "
    "the signed-in employee's own usable keys.  Answers PublicKeyCredentialRequestOptionsJSON.",
    response={200: dict, **ERRORS},
    openapi_extra=JSON_OBJECT_BODY,
)
@same_origin_json
def stepup_options(request: HttpRequest) -> HttpResponse:
    employee = _signed_in(request)
    _csrf(request)
    return _json(stepup.begin_stepup(employee).to_dict())


@router.post(
    "/stepup/verify",
    summary="Verify a step-up assertion",
    description="AuthenticationResponseJSON by one of the signed-in employee's own keys → 200 {stepped_up, "
    "valid_until, redirect}; the session may then do sensitive actions (adding a key, console approvals, ...) for "
    "[sessions] step_up_max_age_seconds.",
    response={200: dict, **ERRORS},
    # The view reads the body itself (a malformed one is malformed_credential, not a validation error); the schema
    # still says what it takes.
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _STEPUP_BODY}}}},
)
@same_origin_json
def stepup_verify(request: HttpRequest) -> HttpResponse:
    session = _session(request)
    _csrf(request)
    try:
        data = json.loads(request.body or b"{}")
        payload = StepUpVerifyIn.model_validate(data)
    except (ValueError, TypeError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        raise MalformedCredential("the body is not an AuthenticationResponseJSON") from None
    credential = stepup.finish_stepup(_credential_json(payload), session=session, request=request)
    until = session.last_assertion_at + timedelta(seconds=settings.SMISHGUARD.sessions.step_up_max_age_seconds)
    redirect = safe_return_url(payload.next, request=request, default="/")
    return _json({"stepped_up": True, "key_id": credential.pk, "valid_until": until.isoformat(), "redirect": redirect})


# --------------------------------------------------------------------------------------------------------
# My keys
# --------------------------------------------------------------------------------------------------------


@router.get("/keys", summary="My security keys", response={200: dict, **ERRORS})
def my_keys(request: HttpRequest) -> dict[str, Any]:
    employee = _signed_in(request)
    return {"keys": [key_dict(c) for c in keys.keys_for(employee)]}


@router.patch("/keys/{key_id}", summary="Rename one of my security keys", response={200: dict, **ERRORS})
@same_origin_json
def rename(request: HttpRequest, key_id: int, payload: RenameIn) -> dict[str, Any]:
    employee = _signed_in(request)
    _csrf(request)
    credential = keys.get_key(key_id, employee=employee)
    return key_dict(keys.rename_key(credential, payload.name, actor=employee, request=request))


@router.delete("/keys/{key_id}", summary="Remove one of my security keys", response={200: dict, **ERRORS})
@same_origin_json
def remove(request: HttpRequest, key_id: int) -> dict[str, Any]:
    employee = _signed_in(request)
    _csrf(request)
    credential = keys.get_key(key_id, employee=employee)
    keys.remove_key(credential, actor=employee, request=request)
    return {"removed": key_id}
