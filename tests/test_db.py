"""smishguard/db.py: statements built from the models' _meta (the fast INSERT, table and column names)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connection

from smishguard.accounts.models import Group, Session
from smishguard.accounts.sql import INSERT_SESSION, SESSION_FIELDS
from smishguard.db import (
    Columns,
    FastInsert,
    adapt_time,
    column,
    execute,
    fast_insert,
    fetch_one,
    hot_transaction,
    table,
)
from smishguard.passkeys.models import Challenge, Credential


def test_fast_insert_is_built_once_per_model_and_fields():
    assert fast_insert(Session, SESSION_FIELDS) is INSERT_SESSION
    assert fast_insert(Session, ("key_hash", "employee", "expires_at")) is not INSERT_SESSION


def test_fast_insert_names_the_table_and_columns_from_meta():
    insert = FastInsert(Challenge, ("challenge", "employee", "expires_at"))
    assert insert.sql == (
        f"INSERT INTO {Challenge._meta.db_table} (challenge, employee_id, expires_at) VALUES (%s, %s, %s) RETURNING id"
    )


def test_columns_come_from_meta_and_a_misspelt_field_fails_early():
    c = Columns(Credential, "c")
    assert c.table == f"{Credential._meta.db_table} c"
    assert c["employee"] == "c.employee_id"
    assert table(Credential) == Credential._meta.db_table
    assert column(Credential, "employee") == "employee_id"
    with pytest.raises(FieldDoesNotExist):
        c["signcount"]
    with pytest.raises(FieldDoesNotExist):
        FastInsert(Credential, ("signcount",))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC),  # no microseconds: text without them, as Django writes it
        datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2020, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ],
)
def test_adapt_time_gives_the_driver_what_djangos_adapter_gives(db, moment):
    assert adapt_time(moment) == connection.ops.adapt_datetimefield_value(moment)
    assert adapt_time(None) is None


def test_the_driver_cursor_runs_a_statement_in_a_hot_transaction_and_rolls_back_on_error(db):
    """fetch_one / execute on the driver's cursor inside hot_transaction (a savepoint of the test's transaction
    here; a real BEGIN/COMMIT in a server, which the gateway's integration tests run): what a block wrote is
    kept when it ends, nothing of a block that raises is, and a driver error comes out as Django's."""
    insert = f"INSERT INTO {table(Group)} ({column(Group, 'name')}) VALUES (%s)"
    with hot_transaction():
        execute(insert, ["kept"])

    def write_then_fail() -> None:
        with hot_transaction():
            execute(insert, ["rolled-back"])
            assert fetch_one(f"SELECT COUNT(*) FROM {table(Group)}", []) == (2,)
            raise ZeroDivisionError

    def write_then_fail_in_the_database() -> None:
        with hot_transaction():
            execute(insert, ["also-rolled-back"])
            execute(f"SELECT no_such_column FROM {table(Group)}", [])

    with pytest.raises(ZeroDivisionError):
        write_then_fail()
    with pytest.raises(DatabaseError):
        write_then_fail_in_the_database()
    assert sorted(Group.objects.values_list("name", flat=True)) == ["kept"]
