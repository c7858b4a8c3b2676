"""What training registers with the lower apps, called once from ``TrainingConfig.ready()``: each area's own
``register()`` (modules; compliance; simulations; the tracked links and the reporting of a drill)."""

from __future__ import annotations

from smishguard.accounts import nav
from smishguard.training.nav import NAV_SECTION


def register_all() -> None:
    from smishguard.training import compliance_hooks, landing_hooks, modules_hooks, periodic, simulation_hooks

    nav.register_section(NAV_SECTION, heading="Awareness", order=35, admin_only=True)
    nav.register("awareness-results", label="Results", url_name="awareness:results", section=NAV_SECTION, order=90)
    modules_hooks.register()
    compliance_hooks.register()
    simulation_hooks.register()
    landing_hooks.register()
    periodic.register()  # the worker's reminder pass and the results' retention
