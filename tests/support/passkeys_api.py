"""What the passkeys API tests share: the endpoints, the audit events of one action, an error's code."""

from __future__ import annotations

from smishguard.audit import Action
from smishguard.audit.models import Event

LOOKALIKE_ORIGIN = "https://login-corp.test"
REGISTER_OPTIONS = "/api/webauthn/register/options"
REGISTER_VERIFY = "/api/webauthn/register/verify"
LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"


def events(action: Action) -> list[Event]:
    return list(Event.objects.filter(action=action.value).order_by("at", "pk"))


def error_code(response) -> str:
    return response.json()["error"]["code"]
