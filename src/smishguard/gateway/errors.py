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
