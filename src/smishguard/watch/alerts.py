"""The CT watcher's lookalike alerts as the apps above ``watch`` see them: the one module of ``watch`` that
``reports`` imports (an import-linter contract in pyproject.toml keeps it so).

``reports`` builds its blocklists from :func:`lookalikes`, takes a domain off them with :func:`dismiss`, and
re-publishes the lists when an alert changes (:func:`on_change`).  What it gets are plain frozen values, never the
model rows, so nothing above ``watch`` depends on how an alert is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models.signals import post_delete, post_save

from smishguard.watch import store
from smishguard.watch.models import LookalikeAlert


@dataclass(frozen=True)
class Lookalike:
    """One alert: the domain seen in a certificate, its registrable domain, the brand it imitates, and where the
    certificate that raised it was logged."""

    pk: int
    domain: str
    registrable: str
    brand: str
    first_seen: datetime
    log: str
    entry_index: int | None


_FIELDS = ("pk", "domain", "registrable", "brand", "first_seen", "log", "entry_index")


def lookalikes(*, ids: Iterable[int] | None = None) -> list[Lookalike]:
    """Every alert not marked false positive (what the blocklists list); with ``ids``, those alerts whatever
    their status."""
    rows = (
        LookalikeAlert.objects.exclude(status=LookalikeAlert.Status.FALSE_POSITIVE)
        if ids is None
        else LookalikeAlert.objects.filter(pk__in=list(ids))
    )
    return [Lookalike(*values) for values in rows.values_list(*_FIELDS)]


def dismiss(ids: Iterable[int], *, actor: Any = None, request: Any = None, why: str = "") -> list[int]:
    """Mark these alerts false positive (audited, each one whose status changes), their rows locked first: they
    leave the blocklists, and a later certificate for the same domain joins the same alert, so it stays off.
    The ids of the alerts found, in the alerts' order.  Call it inside the caller's transaction."""
    alerts = list(LookalikeAlert.objects.select_for_update().filter(pk__in=list(ids)))
    for row in alerts:
        store.set_status(row, LookalikeAlert.Status.FALSE_POSITIVE, actor=actor, request=request, why=why)
    return [row.pk for row in alerts]


def on_change(receiver: Callable[..., None], *, dispatch_uid: str) -> None:
    """Call ``receiver`` (a signal receiver) whenever an alert is saved or deleted."""
    post_save.connect(receiver, sender=LookalikeAlert, dispatch_uid=f"{dispatch_uid}-LookalikeAlert")
    post_delete.connect(receiver, sender=LookalikeAlert, dispatch_uid=f"{dispatch_uid}-delete-LookalikeAlert")
