"""How long a recipient took to report a drill, as the SMS reply says it ("You reported it 12 minutes after it
arrived"): whole minutes (never less than one) up to two hours, then hours, then days, in words.

Not the console's ``charts.short_duration`` ("45 s", "1 h 5 min": compact cells of a table, abbreviated, two
units past an hour) nor ``accounts.sessions._duration`` (a configured session length said exactly, "90 seconds", never
rounded): three readers, three wordings, kept apart on purpose (training/landing_hooks.py says so too)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smishguard.accounts.sessions import _duration as session_length
from smishguard.training.charts import short_duration
from smishguard.training.landing_hooks import _duration as time_to_report


@pytest.mark.parametrize(
    ("delay", "said"),
    [
        pytest.param(timedelta(0), "1 minute", id="at-once-is-a-minute"),
        pytest.param(timedelta(seconds=29), "1 minute", id="seconds-are-a-minute"),
        pytest.param(timedelta(seconds=60), "1 minute", id="one-minute"),
        pytest.param(timedelta(minutes=12), "12 minutes", id="minutes"),
        pytest.param(timedelta(minutes=119), "119 minutes", id="just-under-two-hours"),
        pytest.param(timedelta(minutes=120), "2 hours", id="two-hours"),
        pytest.param(timedelta(hours=47), "47 hours", id="just-under-two-days"),
        pytest.param(timedelta(hours=48), "2 days", id="two-days"),
        pytest.param(timedelta(days=10, hours=3), "10 days", id="days"),
    ],
)
def test_the_sms_says_the_time_to_report_in_words(delay, said):
    assert time_to_report(delay) == said


def test_the_three_wordings_differ_on_purpose():
    """The same delay, three ways: the SMS rounds to whole minutes in words, the console's cell is abbreviated
    (and splits hours and minutes), a session's configured length is said exactly in words."""
    assert time_to_report(timedelta(seconds=90)) == "2 minutes"
    assert short_duration(90) == "2 min"
    assert session_length(90) == "90 seconds"
    assert short_duration(3900) == "1 h 5 min"
    assert time_to_report(timedelta(seconds=3900)) == "65 minutes"
