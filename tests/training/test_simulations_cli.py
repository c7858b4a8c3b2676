"""``smishguard simulations ...``: the exact forms, their JSON and CSV, and bad input as one clear line with a
non-zero exit status."""

from __future__ import annotations

import csv
import io
import json

import pytest
from simulation_fixtures import (  # noqa: F401 - the shared fixtures
    configure,
    drills,
    eligible_admin,
    fake,
    people,
    training_settings,
)

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.training import simulations
from smishguard.training.links import tracked_link
from smishguard.training.models import Recipient, Simulation

TEXT = "Hi {first_name}, {company} HR: your bonus letter is ready {link}\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.django_db
def test_create_launch_links_and_results(drills, people, tmp_path, capsys) -> None:  # noqa: F811 - the shared fixtures
    staff = people(2)
    people(1, start=5, enrolled=False)
    template = tmp_path / "bonus.txt"
    template.write_text(TEXT, encoding="utf-8")

    code, out, _ = run(
        capsys, "simulations", "create", "Bonus", "--template", str(template), "--group", "sales", "--json"
    )
    assert code == 0
    created = json.loads(out)
    assert (created["name"], created["status"], created["recipients"]) == ("Bonus", "draft", 2)
    assert created["skipped_by_reason"] == {"not_enrolled": 1}
    sim_id = created["id"]

    code, out, _ = run(capsys, "simulations", "list", "--json")
    assert [row["id"] for row in json.loads(out)] == [sim_id]

    code, out, _ = run(capsys, "simulations", "launch", str(sim_id))
    assert code == 0
    assert out.strip() == f"simulation {sim_id} launched to 2 recipient(s)"

    code, out, _ = run(capsys, "simulations", "links", str(sim_id))
    assert code == 0
    expected = sorted(
        f"{r.employee.email}\t{tracked_link(r.rid)}"
        for r in Recipient.objects.filter(skipped="").select_related("employee")
    )
    assert out.splitlines() == expected
    assert Event.objects.filter(action=Action.SIMULATION_LINKS_EXPORTED).get().detail["links"] == 2

    first = Recipient.objects.get(employee=staff[0])
    simulations.add_event(first.pk, "sent", via="twilio")
    simulations.add_event(first.pk, "clicked", via="browser")
    simulations.add_event(first.pk, "reported", via="sms-forward")

    code, out, _ = run(capsys, "simulations", "results", str(sim_id), "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["id", "name", "status", "recipients", "funnel"]
    assert (data["id"], data["name"], data["status"]) == (sim_id, "Bonus", "running")
    rows = {row["email"]: row for row in data["recipients"]}
    assert set(rows) == {p.email for p in staff}
    assert list(rows[staff[0].email]) == ["email", "sent", "delivered", "clicked", "submitted", "reported"]
    assert rows[staff[0].email]["delivered"] is None
    assert rows[staff[0].email]["clicked"].endswith("Z")
    assert all(value is None for key, value in rows[staff[1].email].items() if key != "email")
    funnel = data["funnel"]
    assert {k: funnel[k] for k in ("sent", "delivered", "clicked", "submitted", "reported")} == {
        "sent": 1, "delivered": 0, "clicked": 1, "submitted": 0, "reported": 1,
    }  # fmt: skip
    assert isinstance(funnel["time_to_first_report_seconds"], int)

    code, out, _ = run(capsys, "simulations", "results", str(sim_id), "--csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["email"] for row in table] == sorted(p.email for p in staff)
    assert table[0]["clicked"] == rows[staff[0].email]["clicked"]
    assert table[1]["sent"] == ""
    assert Event.objects.filter(action=Action.SIMULATION_RESULTS_EXPORTED).count() == 2

    code, out, _ = run(capsys, "simulations", "pause", str(sim_id), "--json")
    assert (code, json.loads(out)) == (0, {"id": sim_id, "status": "paused"})
    code, out, _ = run(capsys, "simulations", "resume", str(sim_id))
    assert (code, out.strip()) == (0, f"simulation {sim_id} is running")
    code, out, _ = run(capsys, "simulations", "cancel", str(sim_id))
    assert (code, out.strip()) == (0, f"simulation {sim_id} is cancelled")


@pytest.mark.django_db
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(drills, people, tmp_path, capsys) -> None:  # noqa: F811 - the shared fixtures
    people(1)
    linked = tmp_path / "linked.txt"
    linked.write_text("Log in at okta-help.com/x or {link}", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    cases = [
        (["create", "X", "--template", str(tmp_path / "missing.txt"), "--group", "sales"], "no such file"),
        (["create", "X", "--template", str(tmp_path), "--group", "sales"], "is a folder"),
        (["create", "X", "--template", str(linked), "--group", "sales"], "a drill may contain no link but {link}"),
        (["create", "X", "--template", str(good), "--group", "nobody"], "no group 'nobody'"),
        (["create", "X", "--template", str(good), "--group", "sales", "--window", "9-5"], "HH:MM-HH:MM"),
        (["create", "X", "--from-campaign", "404", "--group", "sales"], "no campaign 404"),
        (["launch", "99"], "no simulation 99"),
        (["results", "abc"], "no simulation 'abc'"),
        (["pause", "99"], "no simulation 99"),
        (["launch", "1", "--as", "nobody@example.com"], "no employee"),
    ]
    for argv, message in cases:
        code, _out, err = run(capsys, "simulations", *argv)
        assert code != 0, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert Simulation.objects.count() == 0
    code, _out, err = run(capsys, "simulations", "create", "X", "--template", str(good), "--group", "sales")
    assert code == 0
    sim_id = Simulation.objects.get().pk
    code, _out, err = run(capsys, "simulations", "pause", str(sim_id))
    assert code != 0
    assert f"simulation {sim_id} is draft: it cannot be paused" in err


@pytest.mark.django_db
def test_a_launch_above_the_threshold_asks_as_an_admin(drills, people, tmp_path, capsys, settings) -> None:  # noqa: F811 - the shared fixtures
    training_settings(settings, approval_threshold=1)
    people(2)
    ada = eligible_admin("ada@example.com")
    template = tmp_path / "t.txt"
    template.write_text(TEXT, encoding="utf-8")
    assert main(["simulations", "create", "Big", "--template", str(template), "--group", "sales"]) == 0
    sim_id = str(Simulation.objects.get().pk)
    capsys.readouterr()
    code, _out, err = run(capsys, "simulations", "launch", sim_id)
    assert code != 0
    assert "needs a second admin's approval: ask for it as an admin (--as ADMIN_EMAIL)" in err
    code, out, _err = run(capsys, "simulations", "launch", sim_id, "--as", ada.email, "--json")
    assert code == 0
    shown = json.loads(out)
    assert (shown["status"], shown["launched"], shown["recipients"]) == ("awaiting_approval", False, 2)
    assert isinstance(shown["request_id"], int)
