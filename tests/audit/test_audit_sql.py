"""audit/sql.py: the event INSERT written out for the hot path writes the row Event.save() writes."""

from __future__ import annotations

from django.utils import timezone

from smishguard.accounts.services import add_employee
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.audit.sql import INSERT_EVENT


def event(employee, *, ip, detail):
    return Event(
        at=timezone.now(),
        action=Action.SIGNIN_SUCCEEDED.value,
        actor=employee,
        actor_label=employee.email if employee else "anonymous",
        subject=employee,
        subject_label=employee.email if employee else "",
        ip=ip,
        user_agent="Mozilla/5.0 \u00e9",
        detail=detail,
    )


def test_insert_event_writes_the_row_save_writes(db):
    employee = add_employee(email="ada@example.com", name="Ada Lovelace")
    fields = [f.attname for f in Event._meta.concrete_fields if f.attname != "id"]
    cases = [
        (
            employee,
            "192.0.2.7",
            {"key_id": 3, "nested": {"list": [1, "two", None]}, "text": "caf\u00e9 \u201cquoted\u201d"},
        ),
        (None, "2001:db8::1", {}),
        (employee, None, {"flag": True, "count": 0.5}),
    ]
    for who, ip, detail in cases:
        by_sql, by_orm = event(who, ip=ip, detail=detail), event(who, ip=ip, detail=detail)
        by_orm.at = by_sql.at
        INSERT_EVENT.save(by_sql)
        by_orm.save()
        assert by_sql.pk is not None
        assert not by_sql._state.adding
        assert (
            Event.objects.filter(pk=by_sql.pk).values(*fields).get()
            == Event.objects.filter(pk=by_orm.pk).values(*fields).get()
        )


def test_insert_event_writes_every_field():
    assert {f.name for f in INSERT_EVENT.fields} == {f.name for f in Event._meta.concrete_fields if not f.primary_key}
    assert INSERT_EVENT.sql.startswith(f"INSERT INTO {Event._meta.db_table} (")
