"""The audit trail is append-only, in the model and in the database."""

import contextlib

import modes
import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory

from smishguard.audit import Action, record
from smishguard.audit.errors import AppendOnlyError
from smishguard.audit.models import Event

pytestmark = pytest.mark.django_db


def test_record_takes_ip_and_user_agent_from_the_request():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="UA/1.0")
    event = record(Action.SIGNIN_FAILED, request=request, reason="wrong_origin", origin="https://evil.test")
    assert (event.ip, event.user_agent, event.actor_label) == ("203.0.113.9", "UA/1.0", "anonymous")
    assert event.detail == {"reason": "wrong_origin", "origin": "https://evil.test"}
    assert event.action == "passkeys:signin:failed"


def test_cli_actor_without_request():
    event = record(Action.AUDIT_EXPORTED, events=0)
    assert event.actor_label.startswith("cli")


def test_rows_cannot_be_changed_or_deleted_through_the_model():
    event = record(Action.AUDIT_EXPORTED, events=0)
    event.detail = {"events": 99}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(detail={})
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()


def test_rows_cannot_be_changed_in_the_database_either():
    # The triggers refuse UPDATE and DELETE to everyone, the owner too.  SQLite: the test's own connection.
    # PostgreSQL: the owner's (the tests work as the restricted role, which privileges stop before any trigger:
    # tests/test_dbroles.py), on a row of its own in a transaction rolled back.
    table = Event._meta.db_table
    if connection.vendor != "postgresql":
        event = record(Action.AUDIT_EXPORTED, events=0)
        for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, [event.pk])
        assert Event.objects.get(pk=event.pk).action == Action.AUDIT_EXPORTED
        return
    for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with owner_connection() as owner:
            pk = _insert_as_owner(owner)
            with pytest.raises(psycopg.Error, match="append-only"):
                owner.execute(sql, [pk])


def test_the_whole_table_cannot_be_emptied_in_the_database():
    # PostgreSQL: TRUNCATE, which fires no row trigger, is refused by a statement trigger (to the owner: the
    # restricted role has no TRUNCATE privilege at all).  SQLite has no TRUNCATE: its way to empty a table, DELETE
    # without a WHERE, is refused row by row.
    table = Event._meta.db_table
    if connection.vendor != "postgresql":
        record(Action.AUDIT_EXPORTED, events=0)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table}")
        assert Event.objects.count() == 1
        return
    # The test's own transaction has not touched the table: TRUNCATE's lock is free to take.
    with owner_connection() as owner:
        pk = _insert_as_owner(owner)
        owner.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run beside deferred checks
        owner.execute("SAVEPOINT truncate")
        with pytest.raises(psycopg.Error, match="append-only"):
            owner.execute(f"TRUNCATE {table}")
        owner.execute("ROLLBACK TO SAVEPOINT truncate")
        assert owner.execute(f"SELECT count(*) FROM {table} WHERE id = %s", [pk]).fetchone() == (1,)


@contextlib.contextmanager
def owner_connection():
    """PostgreSQL: the test database as its owner, in a transaction that is rolled back."""
    conn = psycopg.connect(modes.owner_url(connection.settings_dict["NAME"]))
    try:
        conn.execute("SET lock_timeout = '30s'")  # never wait for ever on the test's own transaction
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _insert_as_owner(owner) -> int:
    table = Event._meta.db_table
    return owner.execute(
        f"INSERT INTO {table} (at, action, actor_label, subject_label, user_agent, detail) "
        "VALUES (now(), %s, '', '', '', '{}') RETURNING id",
        [Action.AUDIT_EXPORTED.value],
    ).fetchone()[0]


def test_action_tags_have_three_parts():
    for action in Action:
        assert len(action.value.split(":")) == 3, action
