"""The modules area's registrations with lower apps (called from ``hooks.register_all``): the menu entries."""

from __future__ import annotations

from smishguard.accounts import nav

# hooks.NAV_SECTION, the console's "Awareness" section (hooks imports this module: importing it back would be an
# import cycle; tests/training/test_modules_pages.py checks the two agree).
AWARENESS_SECTION = "training"


def register() -> None:
    nav.register("learn", label="Training", url_name="learn:index", section=nav.ACCOUNT, order=36)
    nav.register("training-modules", label="Modules", url_name="training:modules", section=AWARENESS_SECTION, order=10)
