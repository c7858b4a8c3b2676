"""The audit trail's time filters are ISO dates in UTC like everything else (issue 11, item 9): text inputs with
a YYYY-MM-DD[THH:MM] pattern and placeholder (not the browser's local mm/dd/yyyy picker), a readable error for
a bad date, never a 500."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine

from smishguard.accounts import services


@pytest.fixture
def history(admin, employee):
    with time_machine.travel(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        services.suspend(employee, actor=admin)
    with time_machine.travel(datetime(2025, 3, 2, 14, 30, tzinfo=UTC), tick=False):
        services.reactivate(employee, actor=admin)
    return admin


def field(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', body)
    assert match, name
    return match.group(0)


def test_the_time_filters_are_iso_text_inputs_in_utc(admin, login):
    body = login(admin).get("/console/audit").content.decode()
    assert "datetime-local" not in body
    for name in ("since", "until"):
        tag = field(body, name)
        assert 'type="text"' in tag
        assert 'placeholder="YYYY-MM-DD' in tag
        pattern = re.search(r'pattern="([^"]+)"', tag)
        assert pattern, tag
        regex = re.compile(f"^(?:{html.unescape(pattern.group(1))})$")
        for good in ("2025-03-01", "2025-03-01T09:30", "2025-03-01 09:30"):
            assert regex.match(good), good
        for bad in ("03/01/2025", "1.3.2025", "2025-3-1"):
            assert not regex.match(bad), bad
    assert "UTC" in body


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("since=2025-03-02", ["accounts:employee:reactivated"], ["accounts:employee:suspended"]),
        ("until=2025-03-01T09:00", ["accounts:employee:suspended"], ["accounts:employee:reactivated"]),
        ("since=2025-03-02+14:30&until=2025-03-02+14:30", ["accounts:employee:reactivated"], []),
    ],
)
def test_iso_dates_and_times_filter_in_utc(history, login, query, shown, hidden):
    response = login(history).get(f"/console/audit?{query}")
    assert response.status_code == 200
    body = response.content.decode().split("<tbody>", 1)[-1]
    for action in shown:
        assert action in body
    for action in hidden:
        assert action not in body


@pytest.mark.parametrize("bad", ["03/01/2025", "2025-02-30", "yesterday", "2025-03-01T25:00"])
def test_a_bad_date_gets_a_readable_error(history, admin, login, bad):
    response = login(admin).get("/console/audit", {"since": bad})
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert f"From: '{bad}' is not a date like 2025-01-31 or 2025-01-31T09:30 (UTC)" in body
    assert "Traceback" not in body
    assert field(response.content.decode(), "since")  # the field is shown again with what was typed
