"""Delivery statuses of texts that an app above messaging sends itself (through an outbox kind of its own, with
``messaging.twilio`` making the call): a registry of listeners that the status-callback view tells.

Twilio posts a status to ``/hooks/twilio/status`` (the view checks its signature).  A status for one of
messaging's own messages moves that message; a status for any other SID (no ``OutboundMessage`` has it) is
recorded as a ``DeliveryStatus`` with no message and handed to each registered listener, in the callback's
transaction: a listener that raises rolls the record back and Twilio is answered 500, so it tries again.  A
status that arrives before the sender knows its SID stays recorded; the sender looks for it when it marks the send
(``DeliveryStatus.objects.filter(message_sid=...)``).  Training registers here (its simulation texts).
"""

from __future__ import annotations

from collections.abc import Callable

# (message_sid, status in lower case, Twilio's error code or None) -> None
Listener = Callable[[str, str, int | None], None]

_listeners: dict[str, Listener] = {}


def register(name: str, listener: Listener) -> None:
    """Tell ``listener`` of every status for a SID that is not one of messaging's own messages."""
    _listeners[name] = listener


def unregister(name: str) -> None:
    _listeners.pop(name, None)


def notify(message_sid: str, status: str, error_code: int | None) -> None:
    for _name, listener in sorted(_listeners.items()):
        listener(message_sid, status, error_code)
