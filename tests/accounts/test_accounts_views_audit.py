"""The audit trail page: filters by action, person and time; pagination; JSON lines export."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from smishguard.accounts import services
from smishguard.audit import Action, record
from smishguard.audit.models import Event


@pytest.fixture
def history(admin, employee):
    with time_machine.travel(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        services.suspend(employee, actor=admin)
    with time_machine.travel(datetime(2025, 3, 2, 14, 30, tzinfo=UTC), tick=False):
        services.reactivate(employee, actor=admin)
    with time_machine.travel(datetime(2025, 3, 3, 8, 15, tzinfo=UTC), tick=False):
        record(
            Action.SIGNIN_FAILED,
            actor_label="anonymous",
            subject=employee,
            reason="origin_mismatch",
            origin="https://twilio-okta.com",
        )


def rows(response) -> str:
    body = response.content.decode()
    return body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("action=accounts:employee:suspended", ["accounts:employee:suspended"], ["accounts:employee:reactivated"]),
        (
            "action=accounts:employee:",
            ["accounts:employee:suspended", "accounts:employee:reactivated"],
            ["passkeys:signin:failed"],
        ),
        ("action=passkeys:signin:failed", ["twilio-okta.com"], ["accounts:employee:suspended"]),
        (
            "since=2025-03-02&until=2025-03-02",
            ["accounts:employee:reactivated"],
            ["accounts:employee:suspended", "passkeys:signin:failed"],
        ),
        (
            "since=2025-03-02T14:30&until=2025-03-02T14:30",
            ["accounts:employee:reactivated"],
            ["passkeys:signin:failed"],
        ),
        ("since=2025-03-03T00:00", ["passkeys:signin:failed"], ["accounts:employee:reactivated"]),
        ("person=carl", ["accounts:employee:suspended", "passkeys:signin:failed"], []),
        ("person=nobody@example.com", [], ["accounts:employee:suspended"]),
    ],
)
def test_audit_filters(history, admin, login, query, shown, hidden):  # noqa: PLR0917 - pytest passes these
    response = login(admin).get(f"/console/audit?{query}")
    assert response.status_code == 200
    table = rows(response)
    for text in shown:
        assert text in table
    for text in hidden:
        assert text not in table


@pytest.mark.parametrize(
    ("query", "message"),
    [("since=yesterday", "From: &#x27;yesterday&#x27; is not a date"), ("action=made:up", "unknown action")],
)
def test_bad_filters_are_reported_not_a_500(history, admin, login, query, message):
    response = login(admin).get(f"/console/audit?{query}")
    assert response.status_code == 200
    assert message in response.content.decode()


def test_pagination(admin, login):
    for i in range(60):
        record(Action.EMPLOYEE_UPDATED, actor=admin, subject=admin, n=i)
    client = login(admin)
    first = client.get("/console/audit?action=accounts:employee:updated").content.decode()
    assert "Page 1 of 2" in first
    assert "n: 59" in first
    assert "action=accounts%3Aemployee%3Aupdated&amp;page=2" in first
    second = client.get("/console/audit?action=accounts:employee:updated&page=2").content.decode()
    assert "Page 2 of 2" in second
    assert "n: 0;" in second or "n: 0<" in second
    assert "n: 59" not in second


def test_export_is_json_lines_of_the_filtered_events_and_is_itself_audited(history, admin, login):
    response = login(admin).get("/console/audit/export?action=accounts:employee:")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert 'attachment; filename="smishguard-audit-' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    events = [json.loads(line) for line in lines]
    # Oldest first: the March 2025 history, then the two employees created when the test began.
    assert [e["action"] for e in events] == [
        "accounts:employee:suspended",
        "accounts:employee:reactivated",
        "accounts:employee:created",
        "accounts:employee:created",
    ]
    assert events[0]["actor"] == "ada@example.com"
    assert events[0]["subject"] == "carl@example.com"
    assert events[0]["at"] == "2025-03-01T09:00:00+00:00"
    exported = Event.objects.get(action=Action.AUDIT_EXPORTED)
    assert exported.actor == admin
    assert exported.detail["filters"] == {"action": "accounts:employee:"}


def test_export_with_a_bad_filter_goes_back_with_the_error(admin, login):
    response = login(admin).get("/console/audit/export?until=soon", follow=True)
    assert b"Cannot export" in response.content
    assert not Event.objects.filter(action=Action.AUDIT_EXPORTED).exists()
