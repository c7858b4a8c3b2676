"""accounts/sql.py: the session INSERT written out for sign-in writes the row Session.objects.create() writes."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from smishguard.accounts.models import Employee, Session, token_digest
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


def test_session_by_key_reads_what_the_orm_reads(db):
    """The session look-up of every request (accounts.sessions._by_key): the session, its employee and its key,
    every field equal to the ORM's select_related form, with IPs of both families and none, a credential or none, aware
    datetimes, an admin with grant dates, a revoked session."""
    from smishguard.accounts import sessions

    ada = add_employee(email="ada@example.com", name="Ada Lovelace", phone="+14155550100", department="IT")
    Employee.objects.filter(pk=ada.pk).update(is_admin=True, admin_granted_at=timezone.now())
    bob = add_employee(email="bob@example.com", name="Bob \u00e9")
    credential = Credential.objects.create(employee=ada, credential_id=b"k" * 32, public_key=b"pk")
    rows = []
    for n, (person, ip, key) in enumerate(
        [(ada, "192.0.2.7", credential), (ada, "2001:db8::1", None), (bob, None, None)]
    ):
        rows.append(Session.objects.create(key_hash=f"hash-{n}", **session_values(person, key, ip=ip)))
    Session.objects.filter(pk=rows[2].pk).update(revoked_at=timezone.now(), revoked_by="test", revoke_reason="x")
    for row in rows:
        by_sql = sessions._by_key(row.key_hash)
        by_orm = Session.objects.select_related("employee", "credential").get(key_hash=row.key_hash)
        for field in Session._meta.concrete_fields:
            assert getattr(by_sql, field.attname) == getattr(by_orm, field.attname), field.name
        for field in Employee._meta.concrete_fields:
            assert getattr(by_sql.employee, field.attname) == getattr(by_orm.employee, field.attname), field.name
        if by_orm.credential is None:
            assert by_sql.credential is None
        else:
            for field in Credential._meta.concrete_fields:
                assert getattr(by_sql.credential, field.attname) == getattr(by_orm.credential, field.attname)
        assert by_sql.created_at.tzinfo is not None
        assert not by_sql._state.adding
        assert by_sql.employee.pk == by_orm.employee_id
    assert sessions._by_key("no such hash") is None


def test_the_gateways_session_read_is_the_orms(db):
    """The gateway check's look-up (accounts.sessions.resolve_values, accounts.sql.CHECK_SESSION): each value
    equal to the ORM's, the groups equal to the ORM's (none, one, several, a name with a comma, a quote and a non-ASCII
    letter), and the same judgement as resolve (a revoked, an expired, an idle session and a suspended employee's
    are not live)."""
    from smishguard.accounts import sessions

    ada = add_employee(
        email="ada@example.com", name="Ada \u00e9", groups=["support", 'on-call, "night" \u00e9', "security"]
    )
    bob = add_employee(email="bob@example.com", name="Bob", groups=["support"])
    cy = add_employee(email="cy@example.com", name="Cy")
    credential = Credential.objects.create(
        employee=ada, credential_id=b"k" * 32, public_key=b"pk", backup_eligible=True
    )
    cases = [(ada, "192.0.2.7", credential), (ada, "2001:db8::1", None), (bob, None, None), (cy, "198.51.100.1", None)]
    tokens = []
    for person, ip, key in cases:
        token, session = sessions.create(person, request=None, credential=key, user_verified=person is bob)
        Session.objects.filter(pk=session.pk).update(ip=ip)
        tokens.append(token)
    sessions.require_key_touch(bob, reason="test")  # key_touch_required_at: set on Bob's session, None on the rest
    for token, (person, ip, key) in zip(tokens, cases, strict=True):
        seen = sessions.resolve_values(token)
        orm = Session.objects.select_related("employee", "credential").get(key_hash=token_digest(token))
        assert (seen.pk, seen.employee_id) == (orm.pk, person.pk)
        assert (seen.email, seen.name) == (orm.employee.email, orm.employee.name)
        assert seen.created_at == orm.created_at
        assert seen.created_at.tzinfo is not None
        assert seen.last_assertion_at == orm.last_assertion_at
        assert seen.user_verified is orm.user_verified
        assert seen.ip == ip
        assert seen.backup_eligible == (None if key is None else key.backup_eligible)
        assert seen.groups == frozenset(person.groups.values_list("name", flat=True))
        assert seen.key_touch_required_at == orm.key_touch_required_at
        assert (seen.key_touch_required_at is not None) is (person is bob) is seen.key_touch_due
    assert sessions.resolve_values(tokens[3]).groups == frozenset()
    assert sessions.resolve_values("no such token") is None
    Session.objects.filter(pk=sessions.resolve(tokens[1]).pk).update(revoked_at=timezone.now())
    Session.objects.filter(pk=sessions.resolve(tokens[2]).pk).update(expires_at=timezone.now())
    Employee.objects.filter(pk=cy.pk).update(status=Employee.Status.SUSPENDED)
    for token in tokens[1:]:
        assert sessions.resolve(token) is None
        assert sessions.resolve_values(token) is None
    idle = timezone.now() - timedelta(seconds=sessions.policy().idle_timeout_seconds + 1)
    Session.objects.filter(key_hash=token_digest(tokens[0])).update(last_seen_at=idle)
    assert sessions.resolve(tokens[0]) is None
    assert sessions.resolve_values(tokens[0]) is None
