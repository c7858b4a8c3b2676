"""The landing area's registrations with lower apps (called from hooks.register_all)."""

from __future__ import annotations


def register() -> None:
    return None
