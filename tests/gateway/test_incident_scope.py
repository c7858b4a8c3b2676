"""Issue 14: ``smishguard incident scope`` — every customer the accounts read (admitted reads), refused attempts
apart, in JSON, CSV and HTML, with notification drafts; bad input is one line, exit 2, nothing written.

Rows are inserted into the access record directly; the command runs in-process through ``cli.main`` on the test
database, in SQLite and in production mode alike."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from scope_fixtures import EXPECTED_CUSTOMERS, EXPECTED_REFUSED, ROWS, SINCE, UNTIL, A, B, Row, at, insert, people
from servers import Database, clean_env, smishguard

from smishguard import cli
from smishguard.audit.models import Event
from smishguard.gateway import drafts, scope, scope_report
from smishguard.gateway.models import AccessRecord

ARGS = ["--user", "ada@example.com", "--user", "BOB@example.com", "--since", "2026-11-01T09:00:00Z"]
ARGS += ["--until", "2026-11-02T09:00:00Z"]


@pytest.fixture
def records(db):
    who = people()
    insert(ROWS, who)
    return who


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["incident", "scope", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def scope_events() -> list[Event]:
    return list(Event.objects.filter(action="gateway:incident:scope_reported").order_by("id"))


def test_json_is_exactly_the_rows_read(records, capsys):
    code, out, err = run(capsys, *ARGS)
    assert code == 0, err
    assert json.loads(out) == {
        "users": ["ada@example.com", "bob@example.com"],
        "since": "2026-11-01T09:00:00Z",
        "until": "2026-11-02T09:00:00Z",
        "total_customers": 4,
        "total_reads": 7,
        "customers": EXPECTED_CUSTOMERS,
        "refused": EXPECTED_REFUSED,
    }


def test_one_user_and_an_offset_in_the_times(records, capsys):
    # 10:00+01:00 is 09:00Z: the same since; one account only
    code, out, _ = run(
        capsys, "--user", "bob@example.com", "--since", "2026-11-01T10:00:00+01:00", "--until", "2026-11-02T09:00:00"
    )
    assert code == 0
    data = json.loads(out)
    assert data["users"] == ["bob@example.com"]
    assert data["since"] == "2026-11-01T09:00:00Z"
    assert [(c["host"], c["customer"], c["reads"]) for c in data["customers"]] == [(A, "42", 1), (A, "9", 1)]
    assert data["refused"]["total"] == 1


def test_until_defaults_to_now_and_a_date_is_midnight(records, capsys):
    code, out, _ = run(capsys, "--user", "carol@example.com", "--since", "2026-11-01")
    assert code == 0
    data = json.loads(out)
    assert data["since"] == "2026-11-01T00:00:00Z"
    assert data["until"] > "2026-11-02"  # now, whatever today is (later than the rows)
    assert data["total_customers"] == 1
    assert data["customers"][0]["customer"] == "3"


def test_the_run_is_audited(records, capsys):
    code, _, _ = run(capsys, *ARGS, "--format", "csv")
    assert code == 0
    (event,) = scope_events()
    assert event.actor_label.startswith("cli")
    assert event.detail["users"] == ["ada@example.com", "bob@example.com"]
    assert event.detail["since"] == "2026-11-01T09:00:00Z"
    assert event.detail["until"] == "2026-11-02T09:00:00Z"
    assert event.detail["format"] == "csv"
    assert (event.detail["customers"], event.detail["reads"], event.detail["refused"]) == (4, 7, 3)


def test_csv(records, capsys):
    code, out, _ = run(capsys, *ARGS, "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(scope_report.CSV_HEADER)
    read = [r for r in rows[1:] if r[0] == "read"]
    refused = [r for r in rows[1:] if r[0] == "refused"]
    assert [(r[1], r[2], int(r[3]), r[4], r[5], r[6].split()) for r in read] == [
        (c["host"], c["customer"], c["reads"], c["first"], c["last"], c["users"]) for c in EXPECTED_CUSTOMERS
    ]
    assert [(r[1], r[2], int(r[3]), r[7]) for r in refused] == [
        (A, "13", 2, "deny=1 step_up=1"),
        (A, "42", 1, "deny=1"),
    ]


def test_csv_cells_that_look_like_formulas_are_defused(db, capsys):
    who = people()
    insert(
        [
            Row("ada@example.com", at(1), A, '=HYPERLINK("http://evil.example/")'),
            Row("ada@example.com", at(2), A, "@x"),
        ],
        who,
    )
    code, out, _ = run(
        capsys, "--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-11-03", "--format", "csv"
    )
    assert code == 0
    customers = [r[2] for r in list(csv.reader(io.StringIO(out)))[1:]]
    assert sorted(customers) == ['\'=HYPERLINK("http://evil.example/")', "'@x"]


def test_html_report_stands_alone(records, capsys, tmp_path):
    target = tmp_path / "scope.html"
    code, out, err = run(capsys, *ARGS, "--format", "html", "--out", str(target))
    assert code == 0
    assert out == ""
    assert "4 customer(s), 7 read(s), 3 refused" in err
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for forbidden in ("<script", "<style", "style=", "<link", "src=", "http://", "https://"):
        assert forbidden not in lowered, forbidden
    assert "<svg" in page
    assert page.count("<rect ") >= 3  # reads in several hours, and refused ones
    for c in EXPECTED_CUSTOMERS:
        assert f'<td>{c["host"]}</td><td>{c["customer"]}</td><td align="right">{c["reads"]}</td>' in page


def test_html_escapes_what_a_customer_id_holds(db, capsys):
    insert([Row("ada@example.com", at(1), A, "<img src=x onerror=alert(1)>")], people())
    code, out, _ = run(
        capsys, "--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-11-03", "--format", "html"
    )
    assert code == 0
    assert "<img" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_out_replaces_a_file_whole(records, capsys, tmp_path):
    target = tmp_path / "scope.json"
    target.write_text("old", encoding="utf-8")
    code, _, _ = run(capsys, *ARGS, "--out", str(target))
    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["total_reads"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scope.json"]  # no temporary file left


# ---- drafts ----------------------------------------------------------------------------------------------------

TEMPLATE = """
[incident]
draft_template = '''
To: customer $customer at $host
Read $reads time(s) between $first and $last by $users (scope $since to $until), from $organisation.
Cost: $$0.
'''
"""


@pytest.fixture
def template(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(TEMPLATE))


def test_one_draft_per_customer_from_the_template(records, template, capsys, tmp_path):
    folder = tmp_path / "drafts"
    code, _, err = run(capsys, *ARGS, "--drafts", str(folder))
    assert code == 0, err
    assert "wrote 4 draft(s)" in err
    files = sorted(folder.iterdir())
    assert len(files) == len(EXPECTED_CUSTOMERS)
    texts = [f.read_text(encoding="utf-8") for f in files]
    for c, text in zip(EXPECTED_CUSTOMERS, texts, strict=True):
        assert f"To: customer {c['customer']} at {c['host']}\n" in text
        assert f"Read {c['reads']} time(s) between {c['first']} and {c['last']} by {', '.join(c['users'])}" in text
        assert "(scope 2026-11-01T09:00:00Z to 2026-11-02T09:00:00Z)" in text
        assert "Cost: $0." in text
    assert scope_events()[0].detail["drafts"] == 4


def test_the_shipped_template_is_used_by_default(records, capsys, tmp_path):
    code, _, _ = run(capsys, *ARGS, "--drafts", str(tmp_path))
    assert code == 0
    texts = [p.read_text(encoding="utf-8") for p in sorted(tmp_path.iterdir())]
    assert len(texts) == 4
    assert all("Dear customer" in t for t in texts)
    assert "Dear customer 9," in texts[-1]


HOSTILE = ["../../escaped", "..", "/etc/passwd", "a/b\\c", ".hidden", "line\nbreak", "x" * 255, "ü", ""]


def test_a_hostile_customer_id_cannot_leave_the_folder(db, capsys, tmp_path):
    insert([Row("ada@example.com", at(i), A, cid) for i, cid in enumerate(HOSTILE)], people())
    folder = tmp_path / "out" / "drafts"
    folder.parent.mkdir()
    code, _, err = run(
        capsys, "--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-11-03", "--drafts", str(folder)
    )
    assert code == 0, err
    everything = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    names = [p.name for p in folder.iterdir()]
    assert len(names) == len(HOSTILE)
    assert everything == sorted([Path("out"), Path("out/drafts"), *(Path("out/drafts") / n for n in names)])
    for name in names:
        assert not name.startswith(".")
        assert len(name) <= 100
        assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in name), name


def test_drafts_never_overwrite(records, capsys, tmp_path):
    assert run(capsys, *ARGS, "--drafts", str(tmp_path))[0] == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, _, err = run(capsys, *ARGS, "--drafts", str(tmp_path), "--out", str(tmp_path.parent / "second.json"))
    assert code == 2
    assert "is already there" in err
    assert err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert not (tmp_path.parent / "second.json").exists()


def test_draft_file_names_are_stable_and_distinct():
    assert drafts.filename(1, A, "42") == drafts.filename(1, A, "42")
    assert drafts.filename(1, A, "a/b") != drafts.filename(1, A, "a_b")
    assert drafts.filename(3, A, "..").startswith("0003-customers.example.com")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"incident": {"draft_template": "Hello $name"}}, "unknown variable(s) $name"),
        ({"incident": {"draft_template": "Pay $5"}}, "a '$' that starts no variable"),
        ({"incident": {"draft_template": ""}}, "must be a non-empty string"),
        ({"incident": {"template": "x"}}, "unknown setting(s) in [incident]: template"),
        ({"incident": "x"}, "[incident] must be a table"),
    ],
    ids=["unknown-variable", "lone-dollar", "empty", "unknown-key", "not-a-table"],
)
def test_a_bad_incident_table_is_one_line(table, message):
    from smishguard.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        drafts.parse(table)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_shipped_template_names_only_known_variables():
    assert drafts.parse({}).draft_template.template == drafts.DEFAULT_TEMPLATE


# ---- bad input -------------------------------------------------------------------------------------------------


def bad_cases(tmp: Path) -> list[tuple[list[str], str]]:
    base = ["--since", "2026-11-01", "--until", "2026-11-03"]
    return [
        (["--user", "nobody@example.com", *base], "no employee with the email 'nobody@example.com'"),
        (["--user", "ada@example.com", "--since", "yesterday"], "--since must be an ISO 8601 date or time"),
        (
            ["--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-13-01"],
            "--until must be an ISO 8601",
        ),
        (
            ["--user", "ada@example.com", "--since", "2026-11-02", "--until", "2026-11-01"],
            "until (2026-11-01T00:00:00Z) must be later than since (2026-11-02T00:00:00Z)",
        ),
        (["--user", "ada@example.com", *base, "--out", str(tmp / "missing" / "x.json")], "its folder does not exist"),
        (["--user", "ada@example.com", *base, "--out", str(tmp)], "is a folder"),
        (["--user", "ada@example.com", *base, "--drafts", str(tmp / "a" / "b")], "its parent folder does not exist"),
        (["--user", "ada@example.com", *base, "--drafts", str(tmp / "file.txt")], "not a folder"),
        (["--user", " , ", *base], "name at least one employee"),
    ]


CASE_IDS = ["unknown-user", "bad-since", "bad-until", "until-before-since", "out-folder-missing", "out-is-folder"]
CASE_IDS += ["drafts-parent-missing", "drafts-is-file", "no-user"]


@pytest.mark.parametrize("case", range(len(CASE_IDS)), ids=CASE_IDS)
def test_bad_input_is_one_line_exit_2_and_nothing_written(records, capsys, tmp_path, case):
    (tmp_path / "file.txt").write_text("keep", encoding="utf-8")
    argv, message = bad_cases(tmp_path)[case]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("smishguard: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
    assert scope_events() == []


def test_an_unwritable_out_is_refused_before_the_query(records, capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        code, _, err = run(capsys, *ARGS, "--out", str(locked / "scope.json"))
        writable = os.access(locked, os.W_OK)  # root may write anywhere: then the report is written
    finally:
        locked.chmod(0o700)
    if writable:
        assert code == 0
        assert (locked / "scope.json").exists()
    else:
        assert code == 2
        assert "cannot write there" in err
        assert list(locked.iterdir()) == []


# ---- the query and the chart's buckets -------------------------------------------------------------------------


def test_scope_module_matches_the_command(records):
    result = scope.scope(scope.employees(["ada@example.com bob@example.com"]), SINCE, UNTIL)
    assert [c.as_dict() for c in result.customers] == EXPECTED_CUSTOMERS
    assert (result.total_customers, result.total_reads, result.refused_total) == (4, 7, 3)


def test_timeline_counts_every_row_in_its_hour(records):
    people_ = scope.employees(["ada@example.com", "bob@example.com"])
    line = scope.timeline(people_, SINCE, UNTIL)
    assert line.unit == "hour"
    assert len(line.buckets) == 24
    assert sum(b.reads for b in line.buckets) == 7
    assert sum(b.refused for b in line.buckets) == 3
    by_hour = {b.start.hour: (b.reads, b.refused) for b in line.buckets if b.reads or b.refused}
    assert by_hour == {9: (1, 0), 10: (1, 0), 11: (1, 0), 12: (2, 0), 13: (1, 0), 14: (0, 2), 15: (0, 1), 8: (1, 0)}


def test_timeline_units_follow_the_period(records):
    ada = scope.employees(["ada@example.com"])
    week = scope.timeline(ada, SINCE - timedelta(days=5), UNTIL)
    assert week.unit == "day"
    assert sum(b.reads for b in week.buckets) == 5 + 1  # the row just before SINCE is inside a week
    year = scope.timeline(ada, UNTIL.replace(year=2024), UNTIL + (UNTIL - SINCE))
    assert year.unit == "month"
    assert sum(b.reads for b in year.buckets) == 7  # ada's every admitted read, the one at UNTIL too
    assert [b.start.month for b in year.buckets[:3]] == [11, 12, 1]


def test_the_chart_draws_a_bar_per_busy_bucket(records):
    line = scope.timeline(scope.employees(["ada@example.com", "bob@example.com"]), SINCE, UNTIL)
    drawn = scope_report.chart(line)
    assert drawn.peak == 2
    assert len(drawn.bars) == 24
    tallest = [b for b in drawn.bars if b.read_height + b.refused_height >= drawn.plot_bottom - drawn.plot_top - 0.01]
    assert len(tallest) == 2  # 12:00 (two reads) and 14:00 (two refused)
    assert drawn.total_reads == 7
    assert drawn.total_refused == 3


def test_more_hosts_than_one_with_the_same_id_are_apart(db):
    who = people()
    insert([Row("ada@example.com", at(1), h, "1") for h in (A, B, "x.example.com")], who)
    result = scope.scope([who["ada@example.com"]], SINCE, UNTIL)
    assert [(c.host, c.customer) for c in result.customers] == [(B, "1"), (A, "1"), ("x.example.com", "1")]


def test_each_query_reads_an_index_range(records):
    """SQLite: the reads statement takes the roll-up by its index, and the customers cut by an end from the
    roll-up's rows outward, each an exact range of gateway_access_scope; the refused attempts are two ranges of it
    (never the admitted rows); the chart's counts are covering ranges of gateway_access_employee_at.  PostgreSQL:
    the indexes are there (on tables this small the planner may rightly prefer a sequential scan)."""
    from django.db import connection

    moment = connection.ops.adapt_datetimefield_value
    statements = {
        "reads": scope.reads_statement([1, 2], SINCE, UNTIL),
        "refused below": scope.refused_rows([1, 2], SINCE, UNTIL, below=True).query.sql_with_params(),
        "refused above": scope.refused_rows([1, 2], SINCE, UNTIL, below=False).query.sql_with_params(),
        "count": (scope._COUNT.format(ids="%s, %s"), [1, 2, moment(SINCE), moment(UNTIL)]),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            plans = {}
            for name, (sql, params) in statements.items():
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plans[name] = " / ".join(str(r[-1]) for r in cursor.fetchall())
            assert plans["reads"].count("USING INDEX gateway_customer_read_recent (employee_id=?") == 2, plans
            assert (
                "COVERING INDEX gateway_access_scope (employee_id=? AND decision=? AND host=? AND customer=? "
                "AND at>? AND at<?)" in plans["reads"]
            ), plans
            assert "TEMP B-TREE" not in plans["reads"], plans
            assert "COVERING INDEX gateway_access_scope (employee_id=? AND decision<?)" in plans["refused below"]
            assert "COVERING INDEX gateway_access_scope (employee_id=? AND decision>?)" in plans["refused above"]
            assert "COVERING INDEX gateway_access_employee_at (employee_id=? AND at>? AND at<?)" in plans["count"]
            assert not any(" SCAN " in f" {plan}" for plan in plans.values()), plans
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                "('gateway_access_scope', 'gateway_access_employee_at', 'gateway_customer_read_recent')"
            )
            found = dict(cursor.fetchall())
            assert "(employee_id, decision, host, customer, at)" in found["gateway_access_scope"]
            assert "(employee_id, at)" in found["gateway_access_employee_at"]
            assert "(employee_id, last_at)" in found["gateway_customer_read_recent"]


def test_the_raw_rows_equal_the_orm_form(records):
    """The reads statement gives the roll-up's rows of the customers read only inside the period as its ORM form
    (``inside_rows``) does, and for the others what the ORM counts in the access record; ``fetch`` runs the
    refused attempts' ORM queries as their own SQL without the ORM's converters: the same rows."""
    from django.db.models import Count, Max, Min

    people_ = scope.employees(["ada@example.com", "bob@example.com"])
    ids = [p.pk for p in people_]
    reads = [tuple(r) for r in scope._fetch(*scope.reads_statement(ids, SINCE, UNTIL))]
    inside = sorted(scope.inside_rows(ids, SINCE, UNTIL))
    assert len(inside) == 5  # ada A/42, B/42, A/7, bob A/42, A/9 (ada's A/1 and A/2 are outside)
    assert sorted(r for r in reads if r[:3] in {i[:3] for i in inside}) == inside
    cut = sorted(r for r in reads if r[:3] not in {i[:3] for i in inside})
    orm = (
        AccessRecord.objects.filter(employee_id__in=ids, decision="allow", at__gte=SINCE, at__lt=UNTIL)
        .values_list("employee_id", "host", "customer")
        .annotate(n=Count("*"), first=Min("at"), last=Max("at"))
    )
    assert [r[:4] for r in cut] == sorted(r[:4] for r in orm if r[:3] not in {i[:3] for i in inside})
    assert all(isinstance(r[-2], str) and isinstance(r[-1], str) for r in reads)  # times as text, read by _aware
    for below, expected in ((True, 0), (False, 3)):  # refused: deny (ada, bob), step_up (ada)
        query = scope.refused_rows(ids, SINCE, UNTIL, below=below)
        assert sorted(tuple(r) for r in scope.fetch(query)) == sorted(query)
        assert len(scope.fetch(query)) == expected


# ---- the console script ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("incident-cli")
    env = clean_env(root / "var")
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "bob@example.com", "--name", "Bob")
    return env


def test_the_console_script_answers_and_audits(site):
    with Database(site, owner=True) as database:
        (bob,) = database.execute("SELECT id FROM accounts_employee WHERE email = ?", ("bob@example.com",)).fetchone()
        database.execute(
            "INSERT INTO gateway_accessrecord (at, employee_id, session_id, method, host, path, rule, decision, "
            "reason, customer, ip) VALUES (?, ?, 1, 'GET', 'customers.example.com', '/customers/77', 1, 'allow', "
            "'signed_in', '77', '10.0.0.1')",
            ("2026-11-01 10:00:00" if not database.postgres else "2026-11-01T10:00:00Z", bob),
        )
        # and the customer's roll-up row, as the check's sql.NOTE_READ writes it beside an admitted read
        at = "2026-11-01 10:00:00" if not database.postgres else "2026-11-01T10:00:00Z"
        database.execute(
            "INSERT INTO gateway_customerread (employee_id, host, customer, reads, first_at, last_at) "
            "VALUES (?, 'customers.example.com', '77', 1, ?, ?)",
            (bob, at, at),
        )
    argv = ["incident", "scope", "--user", "bob@example.com", "--since", "2026-11-01", "--until", "2026-11-02"]
    result = smishguard(site, *argv)
    assert json.loads(result.stdout) == {
        "users": ["bob@example.com"],
        "since": "2026-11-01T00:00:00Z",
        "until": "2026-11-02T00:00:00Z",
        "total_customers": 1,
        "total_reads": 1,
        "customers": [
            {
                "host": A,
                "customer": "77",
                "reads": 1,
                "first": "2026-11-01T10:00:00Z",
                "last": "2026-11-01T10:00:00Z",
                "users": ["bob@example.com"],
            }
        ],
        "refused": {"total": 0, "decisions": {}, "customers": []},
    }
    with Database(site) as database:
        (action,) = database.execute("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    assert action == "gateway:incident:scope_reported"


def test_a_bad_draft_template_stops_the_console_script_with_one_line(site, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[incident]\ndraft_template = 'Dear $name'\n", encoding="utf-8")
    argv = ["incident", "scope", "--user", "bob@example.com", "--since", "2026-11-01"]
    result = smishguard({**site, "SMISHGUARD_CONFIG": str(bad)}, *argv, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "smishguard: error: [incident] draft_template: unknown variable(s) $name (known: customer, host, reads, "
        "first, last, users, since, until, organisation)\n"
    )
