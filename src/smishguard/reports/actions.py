"""The registry of the campaign page's buttons from other apps.

The campaign page is reports' (reports.views.campaign); an app above reports that can act on a campaign (training:
make an SMS phishing drill of it, its brand and wording kept) registers an action in its ``AppConfig.ready()``: a
label and a function ``campaign -> URL`` of the page that does it.  The button is a link (the page behind it asks
what it needs and acts on a POST of its own), so reports imports no app above it (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smishguard.reports.models import Campaign


@dataclass(frozen=True)
class CampaignAction:
    name: str
    label: str
    url: Callable[[Campaign], str]
    order: int = 100


@dataclass(frozen=True)
class Button:
    label: str
    url: str


_actions: dict[str, CampaignAction] = {}


def register_campaign_action(name: str, *, label: str, url: Callable[[Campaign], str], order: int = 100) -> None:
    """Add (or, under the same name, replace) an action; buttons show in ``order``, then by name."""
    _actions[name] = CampaignAction(name, label, url, order)


def unregister_campaign_action(name: str) -> None:
    """For tests that register an action of their own."""
    _actions.pop(name, None)


def campaign_buttons(campaign: Campaign) -> list[Button]:
    """The registered actions' buttons for ``campaign``, in order."""
    return [
        Button(action.label, action.url(campaign))
        for action in sorted(_actions.values(), key=lambda a: (a.order, a.name))
    ]
