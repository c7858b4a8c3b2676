"""The simulation area's registrations with lower apps (called from hooks.register_all): the launch's four-eyes
kind (accounts.approvals), the outbox kind that sends the texts and the listener of their delivery statuses
(messaging.statuses), the console's Simulations page (accounts.nav), and the campaign page's "Make a drill of it"
button (reports.actions), which opens the new-simulation form with the campaign picked."""

from __future__ import annotations

from smishguard.training.nav import NAV_SECTION


def register() -> None:
    from django.urls import reverse

    from smishguard.accounts import nav
    from smishguard.reports.actions import register_campaign_action
    from smishguard.training import simulation_sending, simulations

    simulations.register()
    simulation_sending.register()
    nav.register("simulations", label="Simulations", url_name="simulations:list", section=NAV_SECTION, order=30)
    register_campaign_action(
        "simulation",
        label="Make a drill of it",
        url=lambda campaign: f"{reverse('simulations:new')}?campaign={campaign.pk}",
        order=50,
    )
