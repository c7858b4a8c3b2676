"""Employees get a time zone (IANA, checked against the zone database) and the simulation programme's toggle: in the
console's employee form, the CLI (`employees add|update --time-zone --simulations/--no-simulations`) and the CSV
import (columns time_zone and simulations); the toggle is audited on its own."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from page_fixtures import admin, login  # noqa: F401 - the shared fixtures

from smishguard.accounts import services
from smishguard.accounts.errors import InvalidEmployee
from smishguard.accounts.models import Employee
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main


def _toggles(email: str) -> list[bool]:
    events = Event.objects.filter(action=Action.SIMULATION_PROGRAMME_CHANGED, subject_label=email).order_by("id")
    return [e.detail["in_simulations"] for e in events]


@pytest.mark.django_db
def test_the_cli_sets_the_time_zone_and_the_programme_and_refuses_a_zone_that_does_not_exist(capsys) -> None:
    argv = ["employees", "add", "kim@example.com", "--name", "Kim Lee", "--time-zone", "Asia/Seoul", "--simulations"]
    assert main([*argv, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["time_zone"], shown["in_simulations"]) == ("Asia/Seoul", True)
    assert _toggles("kim@example.com") == [True]

    assert main(["employees", "update", "kim@example.com", "--no-simulations", "--time-zone", "Europe/Paris"]) == 0
    kim = Employee.objects.get(email="kim@example.com")
    assert (kim.time_zone, kim.in_simulations, kim.name) == ("Europe/Paris", False, "Kim Lee")
    assert _toggles(kim.email) == [True, False]
    updated = Event.objects.filter(action=Action.EMPLOYEE_UPDATED, subject_label=kim.email).get()
    assert updated.detail["changes"]["time_zone"] == ["Asia/Seoul", "Europe/Paris"]

    capsys.readouterr()
    for bad in ("Mars/Olympus", "europe/london", "../../etc/passwd"):
        assert main(["employees", "update", kim.email, "--time-zone", bad]) != 0
        err = capsys.readouterr().err
        assert f"not a time zone: {bad!r}" in err
        assert len(err.strip().splitlines()) == 1
    assert main(["employees", "update", kim.email, "--time-zone", ""]) == 0  # blank: the company's default
    assert Employee.objects.get(pk=kim.pk).time_zone == ""


@pytest.mark.django_db
def test_the_csv_import_reads_time_zone_and_simulations() -> None:
    services.add_employee(email="old@example.com", name="Old Timer", time_zone="Europe/London", in_simulations=True)
    data = (
        "email,name,time_zone,simulations\n"
        "new@example.com,New Person,America/Chicago,yes\n"
        "old@example.com,Old Timer,,no\n"
        "bad@example.com,Bad Zone,Nowhere/Land,\n"
    )
    result = services.import_csv(data)
    assert result.created == ("new@example.com",)
    assert result.updated == ("old@example.com",)
    assert [(e.line, e.message) for e in result.errors] == [
        (4, "not a time zone: 'Nowhere/Land' (an IANA name such as Europe/London)")
    ]
    new = Employee.objects.get(email="new@example.com")
    old = Employee.objects.get(email="old@example.com")
    assert (new.time_zone, new.in_simulations) == ("America/Chicago", True)
    assert (old.time_zone, old.in_simulations) == ("Europe/London", False)  # an empty time_zone leaves it
    assert _toggles("old@example.com") == [True, False]
    with pytest.raises(InvalidEmployee):
        services.add_employee(email="x@example.com", name="X", time_zone="UTC+1")


@pytest.mark.django_db
def test_the_console_form_sets_both(admin, login) -> None:  # noqa: F811 - the shared fixtures
    client = login(admin)
    origin = {"HTTP_ORIGIN": django_settings.SMISHGUARD.origin}
    page = client.get(reverse("accounts:console-employee-add"))
    assert page.status_code == 200
    assert b'name="time_zone"' in page.content
    assert b'name="in_simulations"' in page.content
    response = client.post(
        reverse("accounts:console-employee-add"),
        {"email": "lou@example.com", "name": "Lou Park", "time_zone": "Australia/Sydney", "in_simulations": "on"},
        **origin,
    )
    assert response.status_code == 302
    lou = Employee.objects.get(email="lou@example.com")
    assert (lou.time_zone, lou.in_simulations) == ("Australia/Sydney", True)
    edit = client.get(reverse("accounts:console-employee-edit", args=[lou.pk]))
    assert b'value="Australia/Sydney"' in edit.content
    assert b'id="f-simulations" name="in_simulations" type="checkbox" checked' in edit.content

    bad = client.post(
        reverse("accounts:console-employee-edit", args=[lou.pk]),
        {"name": "Lou Park", "time_zone": "Sydney"},
        **origin,
    )
    assert bad.status_code == 400
    assert b"not a time zone" in bad.content
    client.post(reverse("accounts:console-employee-edit", args=[lou.pk]), {"name": "Lou Park"}, **origin)
    lou.refresh_from_db()
    assert (lou.time_zone, lou.in_simulations) == ("", False)
    toggled = Event.objects.filter(action=Action.SIMULATION_PROGRAMME_CHANGED, subject_label=lou.email).order_by("id")
    assert [(e.actor_label, e.detail["in_simulations"]) for e in toggled] == [(admin.email, True), (admin.email, False)]
