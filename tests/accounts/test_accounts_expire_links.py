"""``smishguard employees expire-links --issued-before ISO``: ends every unused link issued before then (links
issued before the redaction fix may sit in old logs), audited, with readable errors for a bad date."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from smishguard.accounts import errors, services
from smishguard.accounts.models import EnrolmentLink
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _people():
    return [services.add_employee(email=f"p{i}@example.com", name=f"P{i}") for i in range(4)]


def at(hour: int, minute: int = 0):
    return time_machine.travel(dt.datetime(2026, 3, 1, hour, minute, tzinfo=UTC), tick=False)


def test_ends_every_unused_link_issued_before_the_date(capsys):
    old_a, old_b, used, new = _people()
    with at(9):
        t_a = services.invite(old_a).token
        t_b = services.invite(old_b).token
        services.invite(used)
    EnrolmentLink.objects.filter(employee=used).update(used_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    with at(12):
        t_new = services.invite(new).token
    with at(13):
        code, out, err = run(capsys, "employees", "expire-links", "--issued-before", "2026-03-01T10:00:00Z")
        assert code == 0, err
        assert "expired 2 unused enrolment link(s) issued before 2026-03-01T10:00:00+00:00" in out
        for token in (t_a, t_b):
            with pytest.raises(errors.EnrolmentLinkInvalid):
                services.usable_link(token)
        assert services.usable_link(t_new).employee == new
    assert EnrolmentLink.objects.get(employee=used).revoked_at is None  # a used link is left as it was
    event = Event.objects.get(action=Action.ENROLMENT_LINKS_EXPIRED)
    assert event.actor_label.startswith("cli")
    assert event.detail["count"] == 2
    assert event.detail["issued_before"] == "2026-03-01T10:00:00+00:00"
    assert t_a not in json.dumps(event.detail)


def test_json_and_a_time_without_a_zone_is_utc(capsys):
    (person, *_rest) = _people()
    with at(9):
        services.invite(person)
    with at(10):
        code, out, _ = run(capsys, "employees", "expire-links", "--issued-before", "2026-03-01T09:30", "--json")
    assert code == 0
    assert json.loads(out) == {"expired": 1, "issued_before": "2026-03-01T09:30:00+00:00"}


def test_nothing_to_expire_says_so(capsys):
    code, out, _ = run(capsys, "employees", "expire-links", "--issued-before", "2020-01-01")
    assert code == 0
    assert "expired 0 unused enrolment link(s)" in out


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-02-30T00:00:00", "", "2026-03-01T25:00"])
def test_a_bad_date_is_one_readable_line(capsys, value):
    code, out, err = run(capsys, "employees", "expire-links", "--issued-before", value)
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "--issued-before" in lines[0]
    assert "ISO 8601" in lines[0]
    assert "Traceback" not in err


def test_a_date_in_the_future_is_refused(capsys):
    code, _, err = run(capsys, "employees", "expire-links", "--issued-before", "2999-01-01")
    assert code != 0
    assert "future" in err
