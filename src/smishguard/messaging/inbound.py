"""What happens to a text that arrives on the reporting number: a registry of inbound handlers, asked in order.

THE HOOK: :func:`handle` asks the registered handlers in order (lowest ``order`` first).  A handler
gets an :class:`InboundText` and either claims it, by returning the reply to send (``""``: claimed, no reply),
or passes, by returning ``None``; the first claim ends the round.  Higher apps register in their
``AppConfig.ready()`` (DESIGN.md: the lower app offers a registry, the higher one registers), so messaging
imports none of them: the report intake registers itself at :data:`LAST`, the catch-all that turns every
text no one else claimed into a report; an awareness-training handler registers before it, so a simulation text an
employee forwards is claimed by training and never blocklisted or warned about as a real attack.

The webhook view (:mod:`smishguard.messaging.views`) has already checked Twilio's signature, the body limits,
replays and floods, and stored the text (an ``InboundMessage`` row), when it calls the hook, once per
MessageSid; the string returned is sent back as the reply SMS.

A handler that raises is logged (its name and the MessageSid, never the text) and the NEXT handler is asked.
If none then claims the text, its handling is unfinished: the stored row keeps no ``handled_at`` and the
outbox's recovery pass (``smishguard worker``, at start and periodically) hands it to the handlers again
(:func:`finish_unhandled`), so a text stored while the database or a handler was failing still becomes a report.
This is the safer of the two choices: failing the webhook instead would not get the text a second chance,
since the MessageSid is already stored and a retry is dropped as a replay, and Twilio does not retry an
inbound-message webhook by default; the employee's report would simply be lost.  Going on means a text is
never lost, at worst a training handler's failure lets the report intake look at a simulation text (a false alarm the
security team sees and can undo) rather than a real attack going unreported.  A handler keeps its own
writes atomic, so a failure leaves nothing half-done.  If no handler claims the text and one failed, the
answer is :data:`FALLBACK_REPLY`; if none claims it at all, :data:`ACKNOWLEDGEMENT`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import InterfaceError, OperationalError
from django.utils import timezone

log = logging.getLogger("smishguard.messaging")

ACKNOWLEDGEMENT = "Thanks, we have received your message. The security team will look at it."
FALLBACK_REPLY = "Thanks, we have received your message."
FLOOD_REPLY = (
    "We have received many messages from this number in a short time. "
    "Please wait a few minutes before sending more; nothing you sent is lost."
)
TOO_LONG_REPLY = "That message is too long for us to read. Please send the suspicious text on its own."

LAST = 1000  # the catch-all's place (the report intake): one handler only, and none may come after it


@dataclass(frozen=True, slots=True)
class InboundText:
    """One text as it arrived, after the webhook's checks."""

    from_number: str
    to_number: str
    body: str
    message_sid: str


Handler = Callable[[InboundText], str | None]  # the reply (claimed; "" = no reply) or None (passed)

_handlers: dict[str, tuple[int, Handler]] = {}


def register(name: str, handler: Handler, *, order: int) -> None:
    """Ask ``handler`` for inbound texts at ``order`` (lower first; ties by name).

    Registering a name again replaces its entry.  Only one handler may sit at :data:`LAST`, and none after it.
    """
    if order > LAST:
        raise ValueError(f"inbound handler {name!r}: no handler may come after the last one (order {LAST})")
    if order == LAST:
        for other, (other_order, _handler) in _handlers.items():
            if other_order == LAST and other != name:
                raise ValueError(f"inbound handler {name!r}: {other!r} is already the last handler")
    _handlers[name] = (order, handler)


def unregister(name: str) -> None:
    _handlers.pop(name, None)


def _in_order() -> list[tuple[int, str, Handler]]:
    return sorted((order, name, handler) for name, (order, handler) in _handlers.items())


def registered() -> list[tuple[int, str]]:
    """``(order, name)`` of each handler, in the order they are asked."""
    return [(order, name) for order, name, _handler in _in_order()]


def handle(text: InboundText) -> tuple[str, bool]:
    """Hand one inbound text to the registered handlers in order: the reply, and whether the text's handling is
    finished (claimed, or passed by every handler with none failing).  Never raises for a handler's failure (see
    the module's docstring); idempotence per MessageSid is the webhook's (it stores the MessageSid first) and each
    handler's own.  Unfinished (a handler failed and none claimed it): the reply is :data:`FALLBACK_REPLY`."""
    failed = False
    for _order, name, handler in _in_order():
        try:
            reply = handler(text)
        except (OperationalError, InterfaceError) as exc:  # the database went away: one line, not a traceback
            log.warning(
                "inbound handler %s could not reach the database for %s (%s): asking the next one",
                name,
                text.message_sid,
                type(exc).__name__,
            )
            failed = True
            continue
        except Exception:
            log.exception("inbound handler %s failed for %s: asking the next one", name, text.message_sid)
            failed = True
            continue
        if reply is not None:
            log.info("inbound %s claimed by %s", text.message_sid, name)
            return reply, True
    if not failed:
        log.warning("inbound %s claimed by no handler", text.message_sid)
    return (FALLBACK_REPLY, False) if failed else (ACKNOWLEDGEMENT, True)


UNFINISHED_AFTER = timedelta(minutes=1)  # a text younger than this may still be in its webhook's hands


def finish_unhandled(*, now: datetime | None = None) -> int:
    """Hand every stored text whose handling did not finish (no ``handled_at``, older than
    :data:`UNFINISHED_AFTER`) to the handlers again, oldest first; each handler is idempotent per MessageSid.
    No reply is sent (the employee had the webhook's).  Returns how many were finished.  Run by the outbox's
    recovery pass, through the ``sms`` kind's ``before_recover``."""
    from smishguard.messaging.models import InboundMessage

    now = now or timezone.now()
    rows = InboundMessage.objects.filter(
        outcome=InboundMessage.Outcome.HANDLED, handled_at__isnull=True, received_at__lt=now - UNFINISHED_AFTER
    ).order_by("received_at")
    finished = 0
    for row in rows:
        _reply, done = handle(InboundText(row.from_number, row.to_number, row.body, row.message_sid))
        if done:
            InboundMessage.objects.filter(pk=row.pk).update(handled_at=timezone.now())
            finished += 1
    if finished:
        log.warning("recovery: finished handling %d inbound text(s) whose handling had not finished", finished)
    return finished
