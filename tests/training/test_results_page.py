"""The console's Awareness results page: the trend chart and table, repeat clickers, downloads (audited)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from page_fixtures import employee, signed_in_client
from results_fixtures import T0, person, recipient, simulation

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event

__all__ = ["employee"]  # a fixture used by name

PAGE = "/console/training/results/"


@pytest.fixture
def admin(db) -> Employee:
    return add_employee(email="sec@example.com", name="Sec Admin", department="Security", is_admin=True)


@pytest.fixture
def drills(db):
    first = simulation("Password expiry", launched=T0)
    second = simulation("Schedule change", launched=T0 + timedelta(days=30))
    ada, bob, cy = person(1, "Sales"), person(2, "IT"), person(3, "IT")
    recipient(first, ada, sent=0, clicked=1, submitted=2)
    recipient(first, bob, sent=0, reported=7)
    recipient(first, cy, sent=0)
    recipient(second, ada, sent=0, clicked=3)
    recipient(second, bob, sent=0, reported=2)
    return first, second


def test_the_page_shows_the_trend_and_the_repeat_clickers(admin, drills):
    response = signed_in_client(admin).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="total-simulations">2<' in body
    assert 'id="click-rate">40%<' in body  # 2 clicks of 5 texts sent
    assert 'id="report-rate">40%<' in body
    assert "<svg" in body
    assert "Password expiry: clicked 33%, typed on the page 33%, reported 33%" in body  # the chart's description
    assert "Schedule change: clicked 50%" in body
    table = body.split('id="repeat-clickers"', 1)[1]
    assert "p1@example.com" in table
    assert "p2@example.com" not in table  # reported twice, never clicked
    assert 'href="/console/training/results/"' in signed_in_client(admin).get("/console/employees").content.decode()


def test_the_page_without_any_simulation_says_so(admin):
    body = signed_in_client(admin).get(PAGE).content.decode()
    assert "No simulation has been launched yet." in body
    assert "Nobody has clicked in more than one simulation." in body


def test_the_trend_csv_has_a_row_per_simulation_and_is_audited(admin, drills):
    response = signed_in_client(admin).get(PAGE + "trend.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["name"] for row in rows] == ["Password expiry", "Schedule change"]
    assert (rows[0]["sent"], rows[0]["clicked"], rows[0]["reported"]) == ("3", "1", "1")
    assert float(rows[1]["click_rate"]) == pytest.approx(0.5)
    assert rows[0]["time_to_first_report_seconds"] != ""
    event = Event.objects.get(action="training:simulation:results_exported")
    assert (event.detail["what"], event.actor_label) == ("trend", "sec@example.com")


def test_the_xapi_download_is_json_lines_and_audited(admin, drills):
    response = signed_in_client(admin).get(PAGE + "xapi.jsonl")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    statements = [json.loads(line) for line in lines]
    assert {s["verb"]["display"]["en-US"] for s in statements} == {"clicked", "submitted", "reported"}
    assert len(statements) == 5  # ada: clicked, submitted, clicked; bob: reported twice
    assert Event.objects.filter(action="training:simulation:results_exported", detail__what="xapi").count() == 1


def test_a_non_admin_is_refused(employee, drills):
    client = signed_in_client(employee)
    for url in (PAGE, PAGE + "trend.csv", PAGE + "xapi.jsonl"):
        assert client.get(url).status_code == 403
    assert not Event.objects.filter(action="training:simulation:results_exported").exists()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0 s"),
        (44.6, "45 s"),
        (61, "1 min"),
        (3599, "1 h"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (86400, "1 d"),
        (93600, "1 d 2 h"),
    ],
)
def test_report_delays_read_as_people_say_them(seconds, text):
    from smishguard.training.charts import short_duration

    assert short_duration(seconds) == text


def test_a_simulation_s_page_has_its_funnel_by_department(admin, drills):
    first, _second = drills
    body = signed_in_client(admin).get(f"/console/simulations/{first.pk}").content.decode()
    table = body.split('id="departments"', 1)[1].split("</table>", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [c.split(">", 1)[1] for c in row.replace("</th>", "</td>").split("</td>")[:-1]]
            for row in table.split("<tr>")[2:]
        )
    }
    assert rows["IT"][:5] == ["2", "2", "0", "0", "1"]  # recipients, sent, clicked, typed, reported
    assert rows["Sales"][:5] == ["1", "1", "1", "1", "0"]
    assert rows["IT"][5] == "7 min"  # bob reported 7 minutes after his text
    assert "First report 7 min after its text was sent" in body
