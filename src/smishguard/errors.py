"""The base of our own narrow exceptions.  Each names one failure; the HTTP edge turns it into a 4xx once."""

from __future__ import annotations


class SmishguardError(Exception):
    """A failure the caller can act on.  ``code`` is stable (API clients match on it); ``status`` is HTTP."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str | None = None, **detail: object) -> None:
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        self.detail = detail


class NotFound(SmishguardError):
    """Not found."""

    code = "not_found"
    status = 404


class PermissionDenied(SmishguardError):
    """You are not allowed to do that."""

    code = "forbidden"
    status = 403


class NotAuthenticated(SmishguardError):
    """Sign in first."""

    code = "not_authenticated"
    status = 401


class Conflict(SmishguardError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409


class RateLimited(SmishguardError):
    """Too many requests; try again later."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **detail: object) -> None:
        super().__init__(message, **detail)
        self.retry_after = max(1, int(retry_after))
