"""One HH:MM-HH:MM parser (smishguard.timeofday) for ``[training] quiet_hours`` and a simulation's send window:
the same set of accepted and refused values as the three copies it replaced, and each caller's own message."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from smishguard.config import ConfigError, TrainingSettings
from smishguard.timeofday import parse_range
from smishguard.training import simulations
from smishguard.training.errors import InvalidSimulation

ACCEPTED = [
    pytest.param("09:00-17:00", (time(9), time(17)), id="day"),
    pytest.param("21:00-08:00", (time(21), time(8)), id="wraps-past-midnight"),
    pytest.param("00:00-23:59", (time(0), time(23, 59)), id="first-and-last-minute"),
    pytest.param("23:59-00:00", (time(23, 59), time(0)), id="last-minute-to-midnight"),
    pytest.param("08:30-08:30", (time(8, 30), time(8, 30)), id="start-equals-end-parses"),
    pytest.param("19:05-20:45", (time(19, 5), time(20, 45)), id="minutes"),
]
REFUSED = [
    pytest.param("24:00-08:00", id="24:00-start"),
    pytest.param("21:00-24:00", id="24:00-end"),
    pytest.param("25:00-26:00", id="past-24"),
    pytest.param("09:60-17:00", id="minute-60"),
    pytest.param("9:00-17:00", id="one-digit-hour"),
    pytest.param("09:0-17:00", id="one-digit-minute"),
    pytest.param("9-17", id="hours-only"),
    pytest.param("9-5", id="am-pm-style"),
    pytest.param("09:00", id="one-time"),
    pytest.param("09:00-", id="no-end"),
    pytest.param("-17:00", id="no-start"),
    pytest.param("09:00-17:00-18:00", id="three-times"),
    pytest.param("09.00-17.00", id="dots"),
    pytest.param("09:00\u201317:00", id="en-dash"),
    pytest.param("0900-1700", id="no-colons"),
    pytest.param("nine to five", id="words"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("0\u0669:00-17:00", id="arabic-indic-digit"),
    pytest.param("\uff10\uff19:00-17:00", id="fullwidth-digits"),
]
SPACED = [
    pytest.param(" 09:00-17:00", id="leading"),
    pytest.param("09:00-17:00 ", id="trailing"),
    pytest.param("09:00 - 17:00", id="around-the-dash"),
    pytest.param("\t21:00 -08:00\n", id="tabs-and-newline"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_ranges_parse_to_times(text, expected):
    assert parse_range(text) == expected
    assert parse_range(text, spaces=True) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_refused_ranges_raise_value_error_with_or_without_spaces(text):
    with pytest.raises(ValueError, match="not a time range"):
        parse_range(text)
    with pytest.raises(ValueError, match="not a time range"):
        parse_range(text, spaces=True)


@pytest.mark.parametrize("text", SPACED)
def test_spaces_around_the_times_only_when_the_caller_allows_them(text):
    with pytest.raises(ValueError, match="not a time range"):
        parse_range(text)
    start, end = parse_range(text, spaces=True)
    assert (start, end) == parse_range("".join(text.split()))


@pytest.mark.parametrize("value", [None, 900, ["09:00", "17:00"], b"09:00-17:00"])
def test_what_is_not_a_string_is_refused(value):
    with pytest.raises(ValueError, match="not a time range"):
        parse_range(value)


# --- the callers: the same values, each with its own message --------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_quiet_hours_accept_what_the_parser_accepts_start_equal_to_end_too(text, expected):
    del expected
    assert TrainingSettings(quiet_hours=text).quiet_hours == text


@pytest.mark.parametrize("text", [*REFUSED, *SPACED])
def test_quiet_hours_refuse_with_the_config_message(text):
    with pytest.raises(ConfigError) as refused:
        TrainingSettings(quiet_hours=text)
    assert str(refused.value) == f"[training] quiet_hours must be HH:MM-HH:MM, not {text!r}"


def test_quiet_hours_that_are_not_a_string_are_refused_with_the_config_message():
    with pytest.raises(ConfigError, match=r"\[training\] quiet_hours must be HH:MM-HH:MM, not 2100"):
        dataclasses.replace(TrainingSettings(), quiet_hours=2100)


@pytest.mark.parametrize(("text", "expected"), [p for p in ACCEPTED if p.id != "start-equals-end-parses"])
def test_a_send_window_accepts_what_the_parser_accepts(text, expected):
    assert simulations.parse_window(text) == expected


@pytest.mark.parametrize("text", SPACED)
def test_a_send_window_may_have_spaces(text):
    assert simulations.parse_window(text) == parse_range(text, spaces=True)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_send_window_is_any_time(text):
    assert simulations.parse_window(text) == (None, None)


@pytest.mark.parametrize("text", [p for p in REFUSED if p.id not in ("empty", "blank")])
def test_a_bad_send_window_is_refused_with_the_simulations_message(text):
    with pytest.raises(InvalidSimulation) as refused:
        simulations.parse_window(text)
    assert str(refused.value) == f"the window must be HH:MM-HH:MM (e.g. 09:00-17:00), not {text!r}"


def test_a_send_window_that_starts_when_it_ends_is_refused():
    with pytest.raises(InvalidSimulation, match="the window's start and end are the same time"):
        simulations.parse_window("08:30-08:30")
