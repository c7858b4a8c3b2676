"""Fixtures for the simulation tests (tests/training/test_simulations_*.py): Twilio pointed at the fake server with a
simulation sender of its own, a group of employees in the programme, admins, and the real outbox worker run in
this process until every simulation text is sent.

Import them in a test module: ``from simulation_fixtures import drills, people, run_sends, ...``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from fake_twilio import FakeTwilio, twilio_signature
from twilio_fixtures import SENDERS, configure, fake, keeping_the_test_connection

from smishguard.accounts import services
from smishguard.accounts.models import Employee

SIMULATION_SENDER = SENDERS[1]  # the reporting number is SENDERS[0] (TwilioSettings.from_numbers)
STATUS_PATH = "/hooks/twilio/status"

__all__ = [
    "SIMULATION_SENDER",
    "configure",
    "drills",
    "eligible_admin",
    "fake",
    "people",
    "replay_callbacks",
    "run_sends",
    "training_settings",
]


def training_settings(settings, **overrides: object) -> None:
    """Replace [training] settings for the test (the rest of settings.SMISHGUARD kept)."""
    training = dataclasses.replace(settings.SMISHGUARD.training, **overrides)
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, training=training)


@pytest.fixture
def drills(settings, configure) -> FakeTwilio:
    """Twilio at the fake server, and a simulation sender of its own."""
    training_settings(settings, simulation_sender=SIMULATION_SENDER, company="Acme")
    return configure


@pytest.fixture
def people(db) -> Callable[..., list[Employee]]:
    """``people(n, group="sales", enrolled=True, **details)``: n employees in a group, in the programme."""

    def make(count: int, *, group: str = "sales", start: int = 0, enrolled: bool = True, **kwargs: object):
        made = []
        for n in range(start, start + count):
            groups = [group, "simulations"] if enrolled else [group]
            details = {"phone": f"+4477009{n:05d}", "department": "Sales", **kwargs}
            person = services.add_employee(email=f"p{n}@example.com", name=f"Pat{n} Person", groups=groups, **details)
            made.append(person)
        return made

    return make


def eligible_admin(email: str) -> Employee:
    """An admin for a month with a key as old: eligible to approve four-eyes requests."""
    import time_machine
    from django.utils import timezone
    from page_fixtures import make_key

    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        person = services.add_employee(email=email, name=email.split("@", maxsplit=1)[0].title(), is_admin=True)
        make_key(person)
    return person


def run_sends(timeout: float = 20.0) -> int:
    """The outbox's worker loop (with its polls), in this process, until no simulation text is unfinished."""
    from smishguard.outbox import worker
    from smishguard.training import simulation_sending

    with keeping_the_test_connection():
        return worker.run(
            interval=0.02,
            until_idle=True,
            unfinished=simulation_sending.unfinished,
            timeout=timeout,
            handle_signals=False,
            recovery_every=0.2,
        )


def replay_callbacks(client, fake_server: FakeTwilio, *, status: str | None = None) -> list[int]:
    """Post the status callbacks the fake Twilio made (it could not reach this in-process app) to the app, signed
    as Twilio signs them; the answers' status codes."""
    answers = []
    for callback in list(fake_server.callbacks):
        if status is not None and callback.params["MessageStatus"] != status:
            continue
        signature = twilio_signature(fake_server.auth_token, callback.url, callback.params)
        response = client.post(
            callback.url.split("example.com", 1)[1],
            urlencode(callback.params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
        )
        answers.append(response.status_code)
    return answers
