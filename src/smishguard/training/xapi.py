"""xAPI statements (Experience API 1.0.3: actor, verb, object, result) for a company's learning record store, as
JSON lines: each quiz attempt, and each thing an employee did in a simulation (clicked, submitted, reported).

- The actor is the employee (``mbox``: ``mailto:`` their e-mail, and their name).
- A quiz attempt: the ADL verb ``passed`` or ``failed``; the object is the module (an activity of type
  ``assessment`` whose id is its page under the origin, ``/learn/<slug>/``, with the version in the extensions);
  the result has the score (scaled 0..1, raw, min, max), success, completion and the time taken (ISO 8601).
- A drill: the verbs ``clicked``, ``submitted`` and ``reported`` are smishguard's own (no ADL verb says them);
  their ids live under the company's own origin (``<origin>/xapi/verbs/clicked``: an IRI the company controls).
  The object is the simulation (type ``simulation``, id under the origin); the result's success is false for a
  click or a submit (the drill caught them) and true for a report, whose duration is the time from the send to
  the report.  Nothing typed on a drill's page exists to be exported.
- Each statement's id is a UUID derived from what it describes, so sending the same export twice does not
  double-count: an LRS refuses a second statement with an id it holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from smishguard.training.models import Attempt, Recipient, Simulation

VERSION = "1.0.3"
ADL_VERB = "http://adlnet.gov/expapi/verbs/"
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/"
_NAMESPACE = uuid.UUID("6b1f0c2e-4a4e-5d0e-9a51-5f1d2b3c4d5e")  # smishguard's xAPI statements
DRILL_STEPS = ("clicked", "submitted", "reported")


def duration(delta: timedelta) -> str:
    """ISO 8601 duration of ``delta`` in hours, minutes and seconds (xAPI's ``result.duration``): PT1H2M3.5S."""
    total = max(0.0, delta.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{int(hours)}H"
    if minutes:
        text += f"{int(minutes)}M"
    if seconds or text == "PT":
        text += f"{round(seconds, 2):g}S"
    return text


def _origin() -> str:
    return settings.SMISHGUARD.origin


def verb_iri(step: str) -> str:
    return f"{_origin()}/xapi/verbs/{step}"


def _actor(email: str, name: str) -> dict[str, str]:
    return {"objectType": "Agent", "name": name, "mbox": f"mailto:{email}"}


def _verb(iri: str, word: str) -> dict[str, Any]:
    return {"id": iri, "display": {"en-US": word}}


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _statement_id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))


def attempt_statement(attempt: Attempt) -> dict[str, Any]:
    """The statement of one quiz attempt."""
    version = attempt.version
    module = version.module
    employee = attempt.employee
    word = "passed" if attempt.passed else "failed"
    return {
        "id": _statement_id("attempt", attempt.pk),
        "actor": _actor(employee.email, employee.name),
        "verb": _verb(ADL_VERB + word, word),
        "object": {
            "objectType": "Activity",
            "id": f"{_origin()}/learn/{module.slug}/",
            "definition": {
                "type": ACTIVITY_TYPE + "assessment",
                "name": {"en-US": version.title},
                "extensions": {f"{_origin()}/xapi/extensions/version": version.number},
            },
        },
        "result": {
            "score": {"scaled": attempt.score / 100, "raw": attempt.score, "min": 0, "max": 100},
            "success": attempt.passed,
            "completion": attempt.passed,
            "duration": duration(attempt.submitted_at - attempt.started_at),
        },
        "timestamp": _stamp(attempt.submitted_at),
        "version": VERSION,
    }


def _simulation_object(simulation: Simulation) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": f"{_origin()}/console/simulations/{simulation.pk}/",
        "definition": {"type": ACTIVITY_TYPE + "simulation", "name": {"en-US": simulation.name}},
    }


def recipient_statements(recipient: Recipient, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """What one recipient did in their simulation (after ``since``), in the order of the steps."""
    simulation = recipient.simulation
    employee = recipient.employee
    statements = []
    for step in DRILL_STEPS:
        at = getattr(recipient, f"{step}_at")
        if at is None or (since is not None and at <= since):
            continue
        result: dict[str, Any] = {"success": step == "reported"}
        if step == "reported" and recipient.sent_at is not None:
            result["duration"] = duration(at - recipient.sent_at)
        statements.append(
            {
                "id": _statement_id("simulation", simulation.pk, recipient.rid, step),
                "actor": _actor(employee.email, employee.name),
                "verb": _verb(verb_iri(step), step),
                "object": _simulation_object(simulation),
                "result": result,
                "timestamp": _stamp(at),
                "version": VERSION,
            }
        )
    return statements


def statements(*, simulation: Simulation | None = None, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every statement (quiz attempts, then drills), or one simulation's only; ``since``: what happened after it."""
    if simulation is None:
        attempts = Attempt.objects.select_related("employee", "version__module").order_by("submitted_at", "id")
        if since is not None:
            attempts = attempts.filter(submitted_at__gt=since)
        for attempt in attempts.iterator():
            yield attempt_statement(attempt)
    recipients = Recipient.objects.select_related("employee", "simulation").filter(skipped="").order_by("id")
    if simulation is not None:
        recipients = recipients.filter(simulation=simulation)
    for recipient in recipients.iterator():
        yield from recipient_statements(recipient, since=since)
