"""Narrow exceptions of the outbox protocol: what a kind's sender and reconciler raise."""

from __future__ import annotations


class SendFailed(Exception):
    """The call failed.  ``retry``: trying again later may help (a 5xx, a timeout, a refused connection).
    ``in_doubt``: the call may have taken effect anyway (a 5xx or a network failure at an SMS provider), so it is
    reconciled before it is tried again.  ``code`` is the provider's error code when it gave one."""

    def __init__(self, message: str, *, retry: bool, in_doubt: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.in_doubt = in_doubt
        self.code = code


class ReconcileUnavailable(Exception):
    """The provider could not be asked whether an in-doubt call took effect: it stays in doubt for now."""


class UnknownKind(LookupError):
    """No kind of that name was registered (its app is not installed, or it registers too late)."""
