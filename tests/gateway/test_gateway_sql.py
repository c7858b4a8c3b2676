"""gateway/sql.py: each statement the check writes out, run beside its ORM form on the same data."""

from __future__ import annotations

from django.db import connection

from smishguard.accounts.services import add_employee
from smishguard.gateway import sql
from smishguard.gateway.check import group_names


def test_group_names_are_the_orms(db):
    people = [
        add_employee(email="ada@example.com", name="Ada", groups=["support", "security", "on-call \u00e9"]),
        add_employee(email="bob@example.com", name="Bob", groups=["support"]),
        add_employee(email="cy@example.com", name="Cy"),
    ]
    for person in people:
        with connection.cursor() as cursor:
            cursor.execute(sql.GROUP_NAMES, [person.pk])
            rows = sorted(name for (name,) in cursor.fetchall())
        assert rows == sorted(person.groups.values_list("name", flat=True))
        assert group_names(person.pk) == frozenset(rows)
    assert group_names(people[2].pk) == frozenset()
