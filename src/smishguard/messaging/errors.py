"""Narrow exceptions for the provider (Twilio) and for messaging input; no SDK import here."""

from __future__ import annotations

from smishguard.errors import Conflict


class ProviderError(Exception):
    """Base of the provider failures; ``code`` is Twilio's error code when it gave one."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class InvalidNumber(ProviderError, ValueError):
    """Twilio refused the recipient as not a valid phone number (error 21211)."""


class ProviderRefused(ProviderError):
    """Twilio answered 4xx for another reason (bad credentials, unverified sender, ...): retrying will not help."""


class ProviderUnavailable(ProviderError):
    """Twilio answered 5xx, or the network failed or timed out: the request may or may not have taken effect."""


class ProviderNotConfigured(ProviderError):
    """No Twilio account SID / auth token / sender is configured."""


class BroadcastConflict(Conflict):
    """The batch key was used before for a different text or purpose."""

    code = "broadcast_conflict"


class InvalidMessage(ValueError):
    """The text, purpose or key of a message is unusable (empty, too long, unknown purpose)."""
