"""``smishguard training xapi``: the xAPI statements as JSON lines, filtered, audited; bad input in one line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from results_fixtures import T0, person, recipient, simulation

from smishguard.audit.models import Event
from smishguard.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def drills(db):
    one, two = simulation("One"), simulation("Two")
    recipient(one, person(1), sent=0, clicked=1, submitted=30)
    recipient(two, person(2), sent=0, reported=5)
    return one, two


def test_every_statement_as_a_json_line_and_the_export_is_audited(capsys, drills):
    code, out, _err = run(capsys, "training", "xapi")
    assert code == 0
    statements = [json.loads(line) for line in out.splitlines()]
    assert [s["verb"]["display"]["en-US"] for s in statements] == ["clicked", "submitted", "reported"]
    event = Event.objects.get(action="training:simulation:results_exported")
    assert (event.detail["what"], event.detail["statements"]) == ("xapi", 3)


def test_one_simulation_and_since(capsys, drills):
    one, two = drills
    _code, out, _err = run(capsys, "training", "xapi", "--simulation", str(two.pk))
    assert [json.loads(line)["actor"]["mbox"] for line in out.splitlines()] == ["mailto:p2@example.com"]
    since = (T0 + timedelta(minutes=10)).isoformat()
    _code, out, _err = run(capsys, "training", "xapi", "--simulation", str(one.pk), "--since", since)
    assert [json.loads(line)["verb"]["display"]["en-US"] for line in out.splitlines()] == ["submitted"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--simulation", "999"), "no simulation 999"),
        (("--since", "yesterday"), "--since: 'yesterday' is not an ISO 8601 date or time"),
    ],
)
def test_bad_input_is_one_line_and_exports_nothing(capsys, drills, argv, message):
    code, out, err = run(capsys, "training", "xapi", *argv)
    assert code != 0
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not Event.objects.filter(action="training:simulation:results_exported").exists()
