"""accounts/sql.py: the session INSERT written out for sign-in writes the row Session.objects.create() writes."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee
from smishguard.accounts.sql import INSERT_SESSION
from smishguard.passkeys.models import Credential


def session_values(employee, credential, *, ip):
    now = timezone.now()
    return {
        "employee": employee,
        "auth_method": "webauthn",
        "credential": credential,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + timedelta(hours=8),
        "ip": ip,
        "user_agent": "Mozilla/5.0 (X11; Linux) \u00e9",
        "last_assertion_at": now,
    }


def test_insert_session_writes_the_row_create_writes(db):
    employee = add_employee(email="ada@example.com", name="Ada Lovelace")
    credential = Credential.objects.create(employee=employee, credential_id=b"k" * 32, public_key=b"pk")
    fields = [f.attname for f in Session._meta.concrete_fields if f.attname not in ("id", "key_hash")]
    for ip in ("192.0.2.7", "2001:db8::1", None):
        values = session_values(employee, credential, ip=ip)
        by_sql = Session(key_hash=f"sql {ip}", **values)
        INSERT_SESSION.save(by_sql)
        by_orm = Session.objects.create(key_hash=f"orm {ip}", **values)
        assert by_sql.pk is not None
        assert not by_sql._state.adding
        assert (
            Session.objects.filter(pk=by_sql.pk).values(*fields).get()
            == Session.objects.filter(pk=by_orm.pk).values(*fields).get()
        )


def test_insert_session_writes_every_field():
    assert {f.name for f in INSERT_SESSION.fields} == {
        f.name for f in Session._meta.concrete_fields if not f.primary_key
    }
    assert INSERT_SESSION.sql.startswith(f"INSERT INTO {Session._meta.db_table} (")
