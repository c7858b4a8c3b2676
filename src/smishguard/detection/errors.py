"""The detection app's narrow failures (the HTTP edge, the console and the CLI each turn them into an answer once)."""

from __future__ import annotations

from smishguard.errors import SmishguardError


class InvalidBrand(SmishguardError):
    """The brand's details are not valid."""

    code = "invalid_brand"
