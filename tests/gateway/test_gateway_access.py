"""Issue 14, the access record: every decision on a customer-data route (a rule whose resource names a ``customer``
group) is stored before the check answers, in its own append-only table; none for other routes; a write that fails
refuses the request (``record_failed``).  In SQLite and in production mode alike (the test client, the test
database; the append-only refusals are SQLite's triggers there, the restricted role's privileges here)."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import modes
import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from gateway_checks import ACCESS_POLICY, ask, signed_in, use_policy

from smishguard import dbroles
from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee
from smishguard.audit import Action
from smishguard.audit.errors import AppendOnlyError
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.gateway import sql
from smishguard.gateway.models import AccessRecord, CustomerRead


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, ACCESS_POLICY)


def rows() -> list[tuple]:
    return list(
        AccessRecord.objects.order_by("id").values_list(
            "method", "host", "path", "rule", "decision", "reason", "customer"
        )
    )


def test_an_admitted_read_is_recorded_with_who_when_what_and_from_where(bob):
    client, session = signed_in(bob)
    before = timezone.now()
    response = ask(client, "https://Customers.Example.com//x/../customers/c-42/notes?tab=1#top", method="HEAD")
    assert response.status_code == 200
    [row] = AccessRecord.objects.all()
    assert before <= row.at <= timezone.now()
    assert (row.employee_id, row.session_id, row.ip) == (bob.pk, session.pk, "127.0.0.1")
    assert (row.method, row.host, row.path) == ("HEAD", "customers.example.com", "/customers/c-42/notes")
    assert (row.rule, row.decision, row.reason, row.customer) == (2, "allow", "signed_in", "c-42")


def test_refusals_on_customer_routes_are_recorded_too_and_other_routes_not_at_all(bob, carol):
    bob_client, _ = signed_in(bob)
    carol_client, _ = signed_in(carol)
    assert ask(Client(), "https://customers.example.com/customers/7").status_code == 401  # signed out
    assert ask(bob_client, "https://customers.example.com/customers/7/secret").status_code == 403  # a deny rule
    Session.objects.filter(employee=bob).update(last_assertion_at=timezone.now() - timedelta(seconds=301))
    assert ask(bob_client, "https://vault.example.com/accounts/9").status_code == 401  # step-up
    assert rows() == [
        ("GET", "customers.example.com", "/customers/7", 2, "sign_in", "signed_out", "7"),
        ("GET", "customers.example.com", "/customers/7/secret", 1, "deny", "forbidden", "7"),
        ("GET", "vault.example.com", "/accounts/9", 3, "step_up", "step_up", "9"),
    ]
    signed_out = AccessRecord.objects.order_by("id").first()
    assert (signed_out.employee_id, signed_out.session_id) == (None, None)
    # Not recorded: what no rule with a customer group decided.  Carol is outside the customer rule's group, so
    # that rule is skipped and the default policy refuses (no rule, no customer); a route of a customer rule
    # without the group; an unknown host; a URL refused before any rule.
    count = AccessRecord.objects.count()
    assert ask(carol_client, "https://customers.example.com/customers/7").status_code == 403
    assert ask(bob_client, "https://customers.example.com/reports/monthly").status_code == 200
    assert ask(bob_client, "https://unknown.example.com/customers/7").status_code == 403
    assert ask(bob_client, "https://customers.example.com/customers%2F7").status_code == 403
    assert AccessRecord.objects.count() == count


def test_a_write_that_fails_refuses_the_request_and_keeps_nothing(bob):
    client, _ = signed_in(bob)
    assert ask(client, "https://customers.example.com/customers/1").status_code == 200
    # A table of the same name in the connection's temporary schema, which both databases search first for an
    # unqualified name: the count still reads (its columns are there), the INSERT of the access row fails.
    table = AccessRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {table} (id integer, employee_id integer, at timestamp, decision varchar(16), "
            "host varchar(253), customer varchar(255))"
        )
    try:
        response = ask(client, "https://customers.example.com/customers/2")
        assert response.status_code == 403
        assert response["X-Smishguard-Reason"] == "record_failed"
        assert "Remote-User" not in response
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {'pg_temp.' if modes.POSTGRES else 'temp.'}{table}")
    assert rows() == [("GET", "customers.example.com", "/customers/1", 2, "allow", "signed_in", "1")]
    assert ask(client, "https://customers.example.com/customers/2").status_code == 200  # the table is back


def test_a_customer_id_too_long_to_keep_is_refused_alike_in_both_modes(bob):
    client, _ = signed_in(bob)
    response = ask(client, f"https://customers.example.com/customers/{'x' * 256}")
    assert (response.status_code, response["X-Smishguard-Reason"]) == (403, "record_failed")
    assert ask(client, f"https://customers.example.com/customers/{'x' * 255}").status_code == 200
    assert [len(c) for c in AccessRecord.objects.values_list("customer", flat=True)] == [255]


def _one_row(bob) -> AccessRecord:
    client, _ = signed_in(bob)
    assert ask(client, "https://customers.example.com/customers/5").status_code == 200
    return AccessRecord.objects.get()


def test_the_model_refuses_to_change_or_delete_a_row(bob):
    row = _one_row(bob)
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.filter(pk=row.pk).update(customer="6")
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.all().delete()
    row.customer = "6"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert AccessRecord.objects.get().customer == "5"


def _refused(statement: str, params=()) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return caught.value


def test_the_database_refuses_the_running_service_to_change_or_delete_a_row(bob):
    row = _one_row(bob)
    table = AccessRecord._meta.db_table
    statements = [f"UPDATE {table} SET customer = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"]
    if not modes.POSTGRES:  # SQLite: the triggers of gateway migration 0002
        for statement in [*statements, f"DELETE FROM {table}"]:
            assert "append-only" in str(_refused(statement, [row.pk] if "%s" in statement else []))
    else:  # the services' role: SELECT and INSERT only (dbroles), nothing else
        assert table in dbroles.append_only_tables()
        assert dbroles.restriction_problems(connection) == []
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in [*statements, f"TRUNCATE {table}"]:
            refusal = _refused(statement, [row.pk] if "%s" in statement else [])
            assert getattr(refusal.__cause__, "sqlstate", None) == "42501", (statement, refusal)
    assert AccessRecord.objects.get(pk=row.pk).customer == "5"


def test_truncate_is_refused_even_to_the_owner(db):
    # PostgreSQL: a statement trigger (TRUNCATE fires no row trigger; the owner has every privilege).  SQLite has
    # no TRUNCATE; its DELETE without a WHERE is refused row by row (the test above).
    table = AccessRecord._meta.db_table
    if not modes.POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            assert {name for (name,) in cursor.fetchall()} == {"gateway_access_no_update", "gateway_access_no_delete"}
        return
    with owner_connection() as owner:
        owner.execute(
            f"INSERT INTO {table} (at, method, host, path, decision, reason, customer) "
            "VALUES (now(), 'GET', 'h', '/', 'allow', 'signed_in', '1')"
        )
        owner.execute("SET CONSTRAINTS ALL IMMEDIATE")
        owner.execute("SAVEPOINT truncate")
        with pytest.raises(psycopg.Error, match="append-only"):
            owner.execute(f"TRUNCATE {table}")
        owner.execute("ROLLBACK TO SAVEPOINT truncate")
        assert owner.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)


@contextlib.contextmanager
def owner_connection():
    """PostgreSQL: the test database as its owner, in a transaction that is rolled back."""
    conn = psycopg.connect(modes.owner_url(connection.settings_dict["NAME"]))
    try:
        conn.execute("SET lock_timeout = '30s'")
        yield conn
    finally:
        conn.rollback()
        conn.close()


# --- the statements written out (gateway.sql) equal their ORM forms ----------------------------------------------


def test_the_count_equals_the_distinct_admitted_reads_of_the_access_record(bob, carol):
    """Containment counts CustomerRead rows (one per customer, kept by NOTE_READ at each admitted read): after real
    checks, the count in any window equals the ORM's distinct (host, customer) over the access record's admitted
    rows, and a customer read a hundred times is one row."""
    client, _ = signed_in(bob)
    other, _ = signed_in(add_employee(email="dan@example.com", name="Dan", groups=["support"]))
    start = timezone.now()
    for path in ["/customers/1", "/customers/1", "/customers/2", "/customers/1/secret", "/customers/3"]:
        ask(client, f"https://customers.example.com{path}")
    for _ in range(100):
        assert ask(client, "https://customers.example.com/customers/2").status_code == 200
    ask(other, "https://customers.example.com/customers/9")
    assert CustomerRead.objects.filter(employee=bob).count() == 3

    def counted(host: str, customer: str, since) -> tuple[int, bool]:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.DISTINCT_ADMITTED, [host, customer, bob.pk, connection.ops.adapt_datetimefield_value(since)]
            )
            count, seen = cursor.fetchone()
        return count, bool(seen)

    for since in (start - timedelta(minutes=1), timezone.now() + timedelta(minutes=1)):
        orm = (
            AccessRecord.objects.filter(employee=bob, decision="allow", at__gte=since)
            .values("host", "customer")
            .distinct()
        )
        for host, customer in [("customers.example.com", "1"), ("customers.example.com", "9"), ("other.com", "1")]:
            assert counted(host, customer, since) == (orm.count(), orm.filter(host=host, customer=customer).exists())


def _orm_note_read(employee, host: str, customer: str, at) -> None:
    """NOTE_READ's ORM form: the row made with one read, or one more read with first and last taking ``at`` in."""
    row, made = CustomerRead.objects.get_or_create(
        employee=employee, host=host, customer=customer, defaults={"reads": 1, "first_at": at, "last_at": at}
    )
    if not made:
        row.reads += 1
        row.first_at, row.last_at = min(row.first_at, at), max(row.last_at, at)
        row.save()


def test_note_read_counts_the_reads_and_keeps_first_and_last_as_its_orm_form_would(bob):
    """In the order two racing checks may write them (the later time first): the count, the earliest and the
    latest, never the time written last."""
    now = timezone.now()
    times = [now - timedelta(minutes=1), now - timedelta(minutes=5), now, now - timedelta(seconds=1)]
    for at in times:
        with connection.cursor() as cursor:
            value = connection.ops.adapt_datetimefield_value(at)
            cursor.execute(sql.NOTE_READ, [bob.pk, "a.example.com", "7", value, value])
        _orm_note_read(bob, "b.example.com", "7", at)
    by_sql, by_orm = (
        CustomerRead.objects.get(employee=bob, host=host, customer="7") for host in ("a.example.com", "b.example.com")
    )
    assert (by_sql.reads, by_sql.first_at, by_sql.last_at) == (by_orm.reads, by_orm.first_at, by_orm.last_at)
    assert (by_sql.reads, by_sql.first_at, by_sql.last_at) == (4, min(times), max(times))
    assert CustomerRead.objects.count() == 2


def test_the_insert_statement_writes_what_the_orm_would(bob):
    at = timezone.now()
    values = [at, bob.pk, 7, "GET", "a.example.com", "/customers/1", 2, "allow", "signed_in", "1", "2001:db8::1"]
    pk = sql.INSERT_ACCESS.insert(values)
    orm = AccessRecord.objects.create(**dict(zip(["at", "employee_id", *sql.ACCESS_FIELDS[2:]], values, strict=True)))
    fields = [f.attname for f in AccessRecord._meta.concrete_fields if f.attname != "id"]
    written = AccessRecord.objects.filter(pk__in=[pk, orm.pk]).order_by("id").values_list(*fields)
    assert written[0] == written[1]


# --- export ------------------------------------------------------------------------------------------------------


def test_export_writes_json_lines_filtered_by_time_and_employee_and_is_audited(bob, capsys, tmp_path):
    client, _ = signed_in(bob)
    other, _ = signed_in(add_employee(email="dan@example.com", name="Dan", groups=["support"]))
    assert ask(client, "https://customers.example.com/customers/1").status_code == 200
    assert ask(other, "https://customers.example.com/customers/2").status_code == 200
    assert ask(Client(), "https://customers.example.com/customers/3").status_code == 401
    assert main(["gateway", "access", "export"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["employee"], r["customer"], r["decision"]) for r in lines] == [
        ("bob@example.com", "1", "allow"),
        ("dan@example.com", "2", "allow"),
        (None, "3", "sign_in"),
    ]
    assert set(lines[0]) == {
        "id", "at", "employee", "session", "method", "host", "path", "rule", "decision", "reason", "customer", "ip",
    }  # fmt: skip
    assert main(["gateway", "access", "export", "--user", "BOB@example.com", "--out", str(tmp_path / "a.jsonl")]) == 0
    [only] = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert (only["employee"], only["path"]) == ("bob@example.com", "/customers/1")
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert main(["gateway", "access", "export", "--since", later]) == 0
    assert capsys.readouterr().out == ""
    exports = Event.objects.filter(action=Action.GATEWAY_ACCESS_EXPORTED).order_by("id")
    assert [e.detail["rows"] for e in exports] == [3, 1, 0]
    assert exports[1].detail["user"] == "bob@example.com"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--since", "yesterday"], "--since: 'yesterday' is not an ISO 8601", id="bad-since"),
        pytest.param(["--user", "nobody@example.com"], "--user: no employee", id="unknown-user"),
    ],
)
def test_export_refuses_bad_input_in_one_line(db, capsys, argv, message):
    assert main(["gateway", "access", "export", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smishguard: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_the_count_is_an_index_search_not_a_scan_of_the_table(bob):
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(minutes=10))
    params = ["a.example.com", "1", bob.pk, since]
    with connection.cursor() as cursor:
        if modes.POSTGRES:
            cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: what the plan can use, not its cost
            cursor.execute("EXPLAIN " + sql.DISTINCT_ADMITTED, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert "gateway_customer_read_recent" in plan or "gateway_customer_read_once" in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql.DISTINCT_ADMITTED, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert (
                "USING INDEX gateway_customer_read_recent" in plan or "USING INDEX gateway_customer_read_once" in plan
            ), plan
            assert not [line for line in plan.splitlines() if line.split()[:2] == ["SCAN", "r"]], plan
