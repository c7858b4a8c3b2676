"""The modules area's registrations with lower apps (called from ``hooks.register_all``): the menu entries."""

from __future__ import annotations

from smishguard.accounts import nav
from smishguard.training.nav import NAV_SECTION


def register() -> None:
    nav.register("learn", label="Training", url_name="learn:index", section=nav.ACCOUNT, order=36)
    nav.register("training-modules", label="Modules", url_name="training:modules", section=NAV_SECTION, order=10)
