"""The simulation area's registrations with lower apps (called from hooks.register_all): the launch's four-eyes
kind (accounts.approvals), the outbox kind that sends the texts and the listener of their delivery statuses
(messaging.statuses), and the console's Simulations page (accounts.nav)."""

from __future__ import annotations

from smishguard.training.nav import NAV_SECTION


def register() -> None:
    from smishguard.accounts import nav
    from smishguard.training import simulation_sending, simulations

    simulations.register()
    simulation_sending.register()
    nav.register("simulations", label="Simulations", url_name="simulations:list", section=NAV_SECTION, order=30)
