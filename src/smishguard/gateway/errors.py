"""The gateway's narrow exceptions."""

from __future__ import annotations

from smishguard.errors import SmishguardError


class RequestRefused(SmishguardError):
    """The request to check cannot be matched safely (its URL, host or method is malformed or ambiguous).

    ``reason`` is a stable code (``encoded_slash``, ``double_encoding``, ``unknown_host`` ...; docs/gateway.md);
    the message is one readable line.
    """

    code = "request_refused"
    status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class ScopeInputInvalid(SmishguardError):
    """A breach-scope question that cannot be answered as asked: an unknown employee, a time that is not ISO 8601,
    a period that ends before it starts, a target that cannot be written (``smishguard incident scope``, the
    console's Incidents page).  The message is one readable line."""

    code = "scope_input_invalid"
    status = 400
