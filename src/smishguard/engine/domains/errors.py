"""The narrow errors of the domains engine."""

from __future__ import annotations


class InvalidDomain(ValueError):
    """A name that is not a valid host name (empty, too long, an IP literal, bad punycode, ...)."""

    def __init__(self, raw: object, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        shown = raw if not isinstance(raw, str) or len(raw) <= 80 else raw[:77] + "..."
        super().__init__(f"invalid domain {shown!r}: {reason}")


class BrandConfigError(ValueError):
    """A brand configuration (TOML file or Brand arguments) that cannot be used, with a one-line reason."""
