"""``smishguard.watch.alerts``: the CT alerts as ``reports`` reads them (issue 12, item 1)."""

from __future__ import annotations

import pytest

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.watch import alerts
from smishguard.watch.models import LookalikeAlert

pytestmark = pytest.mark.django_db


def ct_alert(domain: str, **fields: object) -> LookalikeAlert:
    return LookalikeAlert.objects.create(
        domain=domain, registrable=domain, brand="Twilio", log="Test log", entry_index=7, names=[domain], **fields
    )


def test_lookalikes_leave_out_false_positives_unless_asked_for_by_id():
    kept = ct_alert("twilio-sso.com")
    dismissed = ct_alert("twilio-login.com", status=LookalikeAlert.Status.FALSE_POSITIVE)

    (only,) = alerts.lookalikes()
    assert only == alerts.Lookalike(
        pk=kept.pk,
        domain="twilio-sso.com",
        registrable="twilio-sso.com",
        brand="Twilio",
        first_seen=kept.first_seen,
        log="Test log",
        entry_index=7,
    )
    assert {a.pk for a in alerts.lookalikes(ids=[kept.pk, dismissed.pk])} == {kept.pk, dismissed.pk}
    assert alerts.lookalikes(ids=[]) == []


def test_dismiss_marks_false_positive_once_and_audits_each_change():
    first, second = ct_alert("twilio-sso.com"), ct_alert("twilio-help.com")

    assert sorted(alerts.dismiss([first.pk, second.pk], why="removed from blocklists")) == sorted([first.pk, second.pk])
    assert set(LookalikeAlert.objects.values_list("status", flat=True)) == {LookalikeAlert.Status.FALSE_POSITIVE}
    events = Event.objects.filter(action=Action.WATCH_ALERT_STATUS_CHANGED)
    assert sorted(e.detail["alert_id"] for e in events) == sorted([first.pk, second.pk])
    assert {e.detail["why"] for e in events} == {"removed from blocklists"}

    assert alerts.dismiss([first.pk]) == [first.pk]  # already false positive: found, not changed again
    assert events.count() == 2
    assert alerts.lookalikes() == []


# on_change: tests/reports/test_reports_blocklists.py::test_files_are_written_on_every_change (a CT alert raised,
# then marked false positive, re-writes the lists through reports' receiver).
