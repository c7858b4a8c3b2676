"""Fixtures for the messaging tests (kept in tests/support/twilio_fixtures.py, shared with the reports tests)."""

from twilio_fixtures import PUBLIC_URL, SENDERS, configure, fake, make_employees, run_worker, work

__all__ = ["PUBLIC_URL", "SENDERS", "configure", "fake", "make_employees", "run_worker", "work"]
