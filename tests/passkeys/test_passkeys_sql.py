"""passkeys/sql.py: each statement written out for the sign-in path, run beside its ORM form on the same data."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.passkeys import sql
from smishguard.passkeys.key_profile import read_key_profile, transports_of
from smishguard.passkeys.models import Challenge, Credential
from smishguard.passkeys.signin import LoginRow

ACTIVE = Employee.Status.ACTIVE
LOGIN = Challenge.Purpose.LOGIN


def run(statement: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def execute(statement: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def db_time(value):
    return connection.ops.adapt_datetimefield_value(value)


def key(employee, cid: bytes, *, transports=("usb",), revoked=False, flagged=False, sign_count=0, age=0):
    now = timezone.now()
    return Credential.objects.create(
        employee=employee,
        credential_id=cid,
        public_key=b"public:" + cid,
        sign_count=sign_count,
        transports=list(transports),
        name=f"key {cid.hex()[:6]}",
        model="Test model",
        backup_eligible=len(cid) % 2 == 0,
        user_handle=b"handle:" + cid[:4],
        created_at=now - timedelta(minutes=age),
        revoked_at=now if revoked else None,
        flagged_at=now if flagged else None,
    )


@pytest.fixture
def staff(db):
    """Employees with keys of every kind: usable, revoked, flagged; one suspended, one without keys."""
    ada = add_employee(email="ada@example.com", name="Ada Lovelace")
    bob = add_employee(email="bob@example.com", name="Bob Babbage")
    cy = add_employee(email="cy@example.com", name="Cy Suspended")
    add_employee(email="dee@example.com", name="Dee Keyless")
    key(ada, b"\x01" * 64, transports=("nfc", "usb"), age=3)
    key(ada, b"\x02" * 32, transports=("internal",), age=2)
    key(ada, b"\x03" * 64, revoked=True, age=1)
    key(bob, b"\x04" * 48, sign_count=7)
    key(bob, b"\x05" * 16, transports=("hybrid", "internal"), flagged=True)
    key(cy, b"\x06" * 64)
    Employee.objects.filter(pk=cy.pk).update(status=Employee.Status.SUSPENDED)
    return {e.email: e for e in Employee.objects.all()}


def test_insert_challenge_writes_the_row_create_writes(staff):
    now = timezone.now()
    values = {
        "purpose": LOGIN,
        "employee": staff["ada@example.com"],
        "enrolment_link": None,
        "created_at": now,
        "expires_at": now + timedelta(minutes=5),
        "used_at": None,
        "user_handle": b"handle",
    }
    pk = sql.INSERT_CHALLENGE.insert(
        [b"by sql", LOGIN, staff["ada@example.com"].pk, None, now, now + timedelta(minutes=5), None, b"handle"]
    )
    orm = Challenge.objects.create(challenge=b"by orm", **values)
    fields = [f.attname for f in Challenge._meta.concrete_fields if f.attname not in ("id", "challenge")]
    by_sql, by_orm = (Challenge.objects.filter(pk=p).values(*fields).get() for p in (pk, orm.pk))
    assert by_sql == by_orm
    assert {f.name for f in sql.INSERT_CHALLENGE.fields} == {
        f.name for f in Challenge._meta.concrete_fields if not f.primary_key
    }


@pytest.mark.parametrize(
    "email", ["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com", "nobody@example.com"]
)
def test_login_keys_equals_its_orm_form(staff, email):
    rows = [
        (pk, status, bytes(cid) if cid is not None else None, transports_of(t) if cid is not None else None)
        for pk, status, cid, t in run(sql.LOGIN_KEYS, [email])
    ]
    employee = Employee.objects.filter(email=email).first()
    expected = []
    if employee is not None:
        usable = Credential.objects.filter(employee=employee, revoked_at__isnull=True, flagged_at__isnull=True)
        expected = [
            (employee.pk, employee.status, bytes(c.credential_id), c.transports) for c in usable.order_by("created_at")
        ] or [(employee.pk, employee.status, None, None)]
    assert rows == expected


def test_key_profile_statements_equal_their_orm_form(staff):
    usable = list(Credential.objects.filter(revoked_at__isnull=True, flagged_at__isnull=True, employee__status=ACTIVE))
    kinds = Counter()
    for length, transports, n in run(sql.KEY_KINDS, [ACTIVE]):
        kinds[(int(length), tuple(transports_of(transports)))] += int(n)
    assert kinds == Counter((len(bytes(c.credential_id)), tuple(c.transports)) for c in usable)
    counts = {int(k): int(n) for k, n in run(sql.KEY_COUNTS, [ACTIVE])}
    assert counts == Counter(Counter(c.employee_id for c in usable).values())
    assert read_key_profile().counts == ((1, 1), (2, 1))


def orm_login_row(challenge: bytes, credential_id: bytes, now) -> LoginRow | None:
    """What sql.FIND_LOGIN reads, through the ORM: the login challenge, and the key named with its employee."""
    ch = Challenge.objects.filter(challenge=challenge, purpose=LOGIN).first()
    if ch is None:
        return None
    c = Credential.objects.select_related("employee").filter(credential_id=credential_id).first()
    e = c.employee if c is not None else None
    return LoginRow(
        challenge_id=ch.pk,
        challenge_employee_id=ch.employee_id,
        challenge_used=ch.used_at is not None,
        challenge_live=ch.expires_at > now,
        key_id=c and c.pk,
        employee_id=c and c.employee_id,
        public_key=c and bytes(c.public_key),
        sign_count=c and c.sign_count,
        backup_eligible=c and c.backup_eligible,
        user_handle=c and bytes(c.user_handle),
        # "x IS NOT NULL" is false, not NULL, beside a missing key
        revoked=c is not None and c.revoked_at is not None,
        flagged=c is not None and c.flagged_at is not None,
        key_name=c and c.name,
        model=c and c.model,
        email=e and e.email,
        name=e and e.name,
        status=e and e.status,
        is_admin=e and e.is_admin,
    )


def sql_login_row(challenge: bytes, credential_id: bytes, now) -> LoginRow | None:
    rows = run(sql.FIND_LOGIN, [db_time(now), credential_id, challenge, LOGIN])
    assert len(rows) <= 1
    if not rows:
        return None
    row = LoginRow._make(rows[0])
    # As the driver returns them: 0/1 for booleans on SQLite, memoryview for bytes on PostgreSQL.
    as_bool = ("challenge_used", "challenge_live", "backup_eligible", "revoked", "flagged", "is_admin")
    as_bytes = ("public_key", "user_handle")
    return row._replace(
        **{f: bool(getattr(row, f)) for f in as_bool if getattr(row, f) is not None},
        **{f: bytes(getattr(row, f)) for f in as_bytes if getattr(row, f) is not None},
    )


def test_find_login_equals_its_orm_form(staff):
    now = timezone.now()
    ada = staff["ada@example.com"]
    Challenge.objects.create(challenge=b"fresh", purpose=LOGIN, employee=ada, expires_at=now + timedelta(minutes=5))
    Challenge.objects.create(challenge=b"open", purpose=LOGIN, expires_at=now + timedelta(minutes=5))
    Challenge.objects.create(challenge=b"used", purpose=LOGIN, expires_at=now + timedelta(minutes=5), used_at=now)
    Challenge.objects.create(challenge=b"expired", purpose=LOGIN, expires_at=now - timedelta(seconds=1))
    Challenge.objects.create(challenge=b"stepup", purpose="stepup", expires_at=now + timedelta(minutes=5))
    Credential.objects.filter(credential_id=b"\x04" * 48).update(flagged_at=now)
    Employee.objects.filter(pk=staff["bob@example.com"].pk).update(is_admin=True)
    seen = 0
    for challenge in (b"fresh", b"open", b"used", b"expired", b"stepup", b"unknown"):
        for credential_id in [bytes(c) for c in Credential.objects.values_list("credential_id", flat=True)] + [
            b"unknown"
        ]:
            expected = orm_login_row(challenge, credential_id, now)
            assert sql_login_row(challenge, credential_id, now) == expected
            seen += expected is not None and expected.key_id is not None
    assert seen == 4 * 6  # four login challenges, each beside each of the six keys


def twin_challenges(now, tag: bytes) -> list[Challenge]:
    return [
        Challenge.objects.create(challenge=tag + b"fresh", purpose=LOGIN, expires_at=now + timedelta(minutes=5)),
        Challenge.objects.create(
            challenge=tag + b"used", purpose=LOGIN, expires_at=now + timedelta(minutes=5), used_at=now
        ),
        Challenge.objects.create(challenge=tag + b"expired", purpose=LOGIN, expires_at=now - timedelta(seconds=1)),
    ]


def challenge_state(challenges: list[Challenge]) -> list[tuple]:
    return [Challenge.objects.values_list("used_at", "expires_at").get(pk=c.pk) for c in challenges]


def test_claim_challenge_equals_its_orm_form(db):
    now = timezone.now()
    by_sql, by_orm = twin_challenges(now, b"s"), twin_challenges(now, b"o")
    taken_sql = [execute(sql.CLAIM_CHALLENGE, [db_time(now), c.pk, db_time(now)]) for c in by_sql]
    taken_orm = [
        Challenge.objects.filter(pk=c.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now) for c in by_orm
    ]
    assert taken_sql == taken_orm == [1, 0, 0]
    assert challenge_state(by_sql) == challenge_state(by_orm)
    assert execute(sql.CLAIM_CHALLENGE, [db_time(now), by_sql[0].pk, db_time(now)]) == 0  # once only


def twin_keys(employee, tag: int) -> list[Credential]:
    return [
        key(employee, bytes([tag, 1]) * 8, sign_count=5),
        key(employee, bytes([tag, 2]) * 8, sign_count=9),
        key(employee, bytes([tag, 3]) * 8, sign_count=0),
        key(employee, bytes([tag, 4]) * 8, revoked=True),
        key(employee, bytes([tag, 5]) * 8, flagged=True),
    ]


def key_state(keys: list[Credential]) -> list[tuple]:
    return [
        Credential.objects.values_list("sign_count", "last_used_at", "backed_up", "revoked_at", "flagged_at").get(
            pk=c.pk
        )[:3]
        for c in keys
    ]


@pytest.mark.parametrize("sign_count", [0, 7])
def test_use_key_equals_its_orm_form(db, sign_count):
    employee = add_employee(email="ada@example.com", name="Ada Lovelace")
    now = timezone.now()
    by_sql, by_orm = twin_keys(employee, 1), twin_keys(employee, 2)
    statement = sql.USE_KEY_COUNTER_ABOVE if sign_count > 0 else sql.USE_KEY
    used_sql = []
    for c in by_sql:
        params = [sign_count, db_time(now), True, c.pk] + ([sign_count] if sign_count > 0 else [])
        used_sql.append(execute(statement, params))
    used_orm = []
    for c in by_orm:
        used = Credential.objects.filter(pk=c.pk, revoked_at__isnull=True, flagged_at__isnull=True)
        if sign_count > 0:
            used = used.filter(sign_count__lt=sign_count)
        used_orm.append(used.update(sign_count=sign_count, last_used_at=now, backed_up=True))
    assert used_sql == used_orm
    assert used_sql == ([1, 0, 1, 0, 0] if sign_count else [1, 1, 1, 0, 0])
    assert key_state(by_sql) == key_state(by_orm)


def test_statements_name_tables_and_columns_from_meta():
    assert Employee._meta.db_table in sql.FIND_LOGIN
    assert Employee._meta.db_table in sql.LOGIN_KEYS
    assert f"c.{Credential._meta.get_field('employee').column}" in sql.FIND_LOGIN
    assert sql.INSERT_CHALLENGE.sql.startswith(f"INSERT INTO {Challenge._meta.db_table} (")
