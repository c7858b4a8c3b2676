"""Issue 14: the console's Incidents page — the breach scope in a form, the customer table, the refused count, a
server-drawn SVG chart of reads over time, and the JSON/CSV/HTML downloads; admins only; each run audited."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import urlencode

import pytest
from page_fixtures import employee, signed_in_client
from scope_fixtures import EXPECTED_CUSTOMERS, EXPECTED_REFUSED, ROWS, insert, people

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event

__all__ = ["employee"]  # a fixture used by name

PAGE = "/console/incidents/"
QUERY = {"users": "ada@example.com, bob@example.com", "since": "2026-11-01T09:00Z", "until": "2026-11-02T09:00"}


@pytest.fixture
def admin(db) -> Employee:
    return add_employee(email="sec@example.com", name="Sec Admin", department="Security", is_admin=True)


@pytest.fixture
def records(db):
    insert(ROWS, people())


def audited() -> list[Event]:
    return list(Event.objects.filter(action="gateway:incident:scope_reported").order_by("id"))


def test_the_page_is_in_the_console_menu_for_admins(admin):
    page = signed_in_client(admin).get("/console/employees")
    assert page.status_code == 200
    assert f'href="{PAGE}"' in page.content.decode()
    form = signed_in_client(admin).get(PAGE)
    assert form.status_code == 200
    body = form.content.decode()
    assert 'name="users"' in body
    assert 'name="since"' in body
    assert 'name="until"' in body
    assert 'aria-current="page"' in body
    assert "reads-chart" not in body  # no question yet, no chart
    assert audited() == []


def test_the_scope_on_the_page(admin, records):
    response = signed_in_client(admin).get(PAGE, QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="stat-value" id="total-customers">4</span>' in body
    assert '<span class="stat-value" id="total-reads">7</span>' in body
    assert '<span class="stat-value" id="refused-total">3</span>' in body
    table = body.split('id="customers"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><th scope=\"row\">([^<]*)</th><td class=\"num\">(\d+)</td>", table)
    assert rows == [(c["host"], c["customer"], str(c["reads"])) for c in EXPECTED_CUSTOMERS]
    assert '<time datetime="2026-11-01T09:00:00+00:00">2026-11-01 09:00:00</time>' in table  # UTC, to the second
    refused = body.split('id="refused"', 1)[1].split("</table>", 1)[0]
    assert "deny 1, step_up 1" in refused
    # the chart: an inline SVG drawn on the server, one bar per busy hour
    chart = body.split('<figure class="reads-chart">', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect ") == 8  # 6 hours with reads, 2 with refused attempts
    assert "Reads per hour: 7 admitted reads and 3 refused attempts" in chart
    for fmt in ("json", "csv", "html"):
        assert f"/console/incidents/scope.{fmt}?" in body
    (event,) = audited()
    assert event.actor_label == admin.email
    assert event.detail["users"] == ["ada@example.com", "bob@example.com"]
    assert (event.detail["since"], event.detail["until"], event.detail["format"]) == (
        "2026-11-01T09:00:00Z",
        "2026-11-02T09:00:00Z",
        "page",
    )


def test_no_inline_script_or_style_on_the_page(admin, records):
    body = signed_in_client(admin).get(PAGE, QUERY).content.decode().lower()
    assert "<script>" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "<style" not in body
    assert " style=" not in body
    assert not re.search(r"\son[a-z]+=", body)


def test_the_downloads(admin, records):
    client = signed_in_client(admin)
    data = client.get("/console/incidents/scope.json", QUERY)
    assert data.status_code == 200
    assert data["Content-Type"].startswith("application/json")
    assert data["Content-Disposition"].startswith('attachment; filename="smishguard-incident-scope-')
    answer = json.loads(data.content)
    assert answer["customers"] == EXPECTED_CUSTOMERS
    assert answer["refused"] == EXPECTED_REFUSED
    assert (answer["total_customers"], answer["total_reads"]) == (4, 7)
    rows = list(csv.reader(io.StringIO(client.get("/console/incidents/scope.csv", QUERY).content.decode())))
    assert len(rows) == 1 + 4 + 2
    html = client.get("/console/incidents/scope.html", QUERY)
    assert html["Content-Disposition"].endswith('.html"')
    assert b"<svg" in html.content
    assert b"<script" not in html.content
    assert [e.detail["format"] for e in audited()] == ["json", "csv", "html"]


def test_the_download_links_carry_the_resolved_period(admin, records):
    """Without To, the page asks up to now; its links name that instant, so a download equals the page."""
    body = signed_in_client(admin).get(PAGE, {"users": "bob@example.com", "since": "2026-11-01"}).content.decode()
    link = re.search(r'href="/console/incidents/scope\.json\?([^"]+)"', body).group(1).replace("&amp;", "&")
    assert "until=20" in link
    assert "users=bob%40example.com" in link


def test_a_non_admin_is_refused(employee, records):
    client = signed_in_client(employee)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE, QUERY).status_code == 403
    assert client.get("/console/incidents/scope.json", QUERY).status_code == 403
    home = client.get("/")
    assert home.status_code == 200
    assert f'href="{PAGE}"' not in home.content.decode()
    assert audited() == []


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, records):
    response = client.get(PAGE, QUERY)
    assert response.status_code == 302
    assert "next=" in response["Location"]
    assert audited() == []


BAD = [
    ({**QUERY, "users": "nobody@example.com"}, "no employee with the email &#x27;nobody@example.com&#x27;"),
    ({**QUERY, "since": "last tuesday"}, "From must be an ISO 8601 date or time"),
    ({**QUERY, "until": "2026-10-01"}, "must be later than since"),
    ({**QUERY, "since": ""}, "From: give the start of the period"),
    ({**QUERY, "users": ""}, "name at least one employee"),
]


@pytest.mark.parametrize(
    "case", range(len(BAD)), ids=["unknown-user", "bad-since", "until-first", "no-since", "no-user"]
)
def test_bad_input_is_a_readable_400(admin, records, case):
    params, message = BAD[case]
    client = signed_in_client(admin)
    page = client.get(PAGE, params)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert 'role="alert"' in page.content.decode()
    download = client.get("/console/incidents/scope.csv?" + urlencode(params))
    assert download.status_code == 400
    assert audited() == []


def test_an_unknown_format_is_not_found(admin, records):
    assert signed_in_client(admin).get("/console/incidents/scope.xml", QUERY).status_code == 404


def test_a_long_scope_is_cut_on_the_page_not_in_the_downloads(admin, db):
    from scope_fixtures import Row, at

    from smishguard.gateway.incident_views import PAGE_ROWS

    insert(
        [Row("ada@example.com", at(i / 1000), "customers.example.com", f"c{i:05d}") for i in range(PAGE_ROWS + 1)],
        people(),
    )
    client = signed_in_client(admin)
    body = client.get(PAGE, {**QUERY, "users": "ada@example.com"}).content.decode()
    table = body.split('id="customers"', 1)[1].split("</table>", 1)[0]
    assert table.count('<th scope="row">') == PAGE_ROWS
    assert f"The first {PAGE_ROWS} of {PAGE_ROWS + 1} customers; the downloads list them all." in body
    download = json.loads(client.get("/console/incidents/scope.json", {**QUERY, "users": "ada@example.com"}).content)
    assert len(download["customers"]) == PAGE_ROWS + 1
