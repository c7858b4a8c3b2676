"""The audit trail is append-only, in the model and in the database."""

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
    event = record(Action.AUDIT_EXPORTED, events=0)
    table = Event._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).action == Action.AUDIT_EXPORTED


def test_the_whole_table_cannot_be_emptied_in_the_database():
    # PostgreSQL: TRUNCATE, which fires no row trigger, is refused by a statement trigger.  SQLite has no
    # TRUNCATE: its way to empty a table, DELETE without a WHERE, is refused row by row.
    record(Action.AUDIT_EXPORTED, events=0)
    table = Event._meta.db_table
    postgres = connection.vendor == "postgresql"
    if postgres:  # the test's own transaction holds deferred foreign-key checks, which TRUNCATE would refuse
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    sql = f"TRUNCATE {table}" if postgres else f"DELETE FROM {table}"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    assert Event.objects.count() == 1


def test_action_tags_have_three_parts():
    for action in Action:
        assert len(action.value.split(":")) == 3, action
