"""The ``send`` of a webhook kind: one JSON POST (:func:`smishguard.webhooks.post_json`) carrying the delivery's
idempotency key as ``Idempotency-Key: smishguard-<key>``, its failure turned into the outbox's ``SendFailed``.

A webhook kind has no reconciler: a call a crash left in doubt is made again under the same key, and the receiver
drops the repeat by that header."""

from __future__ import annotations

from typing import Any

from smishguard.outbox.errors import SendFailed
from smishguard.outbox.models import Delivery
from smishguard.webhooks import WebhookFailed, post_json


def post_webhook(delivery: Delivery, url: str, body: dict[str, Any], *, user_agent: str) -> str:
    """POST ``body`` for ``delivery`` with its idempotency key as the ``Idempotency-Key`` header; returns the
    status as the provider reference.  Every webhook kind sends through it."""
    try:
        return str(post_json(url, body, key=f"smishguard-{delivery.key}", user_agent=user_agent))
    except WebhookFailed as exc:
        raise SendFailed(str(exc), retry=exc.retry) from None
