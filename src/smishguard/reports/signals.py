"""Receivers for what happens outside this app: blocklist files re-written.

(A key flagged as possibly cloned is alerted by ``passkeys`` itself, through the outbox: no campaign is needed.)

The blocklist files are re-written when what they are built from changes outside this app.

The CT watcher's alerts (a new lookalike, or an analyst marking one false positive) and the protected brands
(an official domain must leave the lists at once) are saved by code that knows nothing of the blocklists; a
``post_save``/``post_delete`` receiver publishes the lists after the transaction commits.  Only when
``[response] blocklist_dir`` is set: otherwise the lists are built on each request and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save


def _changed(sender: Any, **kwargs: Any) -> None:  # noqa: ARG001 - a signal receiver's signature
    from django.conf import settings

    if settings.SMISHGUARD.response.blocklist_dir:
        from smishguard.reports.blocklists import publish_after_commit

        publish_after_commit()


def connect() -> None:
    from smishguard.detection.models import Brand
    from smishguard.watch import alerts as ct_alerts

    ct_alerts.on_change(_changed, dispatch_uid="reports-blocklists")
    post_save.connect(_changed, sender=Brand, dispatch_uid="reports-blocklists-Brand")
    post_delete.connect(_changed, sender=Brand, dispatch_uid="reports-blocklists-delete-Brand")
