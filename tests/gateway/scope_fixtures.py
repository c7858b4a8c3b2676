"""Access records for the breach-scope tests, inserted directly as the gateway's check writes them in production
(the access row, and for an admitted read the customer's roll-up row through the check's own ``sql.NOTE_READ``):
several employees, two hosts that share a customer id, refused attempts, rows on the period's edges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.gateway import sql
from smishguard.gateway.models import AccessRecord

SINCE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A = "customers.example.com"
B = "billing.example.com"


@dataclass(frozen=True)
class Row:
    who: str
    at: datetime
    host: str
    customer: str
    decision: str = "allow"
    reason: str = "signed_in"


def at(hours: float) -> datetime:
    return SINCE + timedelta(hours=hours)


# Each row: who, when, host, customer id, decision.
ROWS = [
    # ada reads 42 on both hosts (two customers), 7 twice; bob reads 42 on A as well, and 9
    Row("ada@example.com", SINCE, A, "42"),  # exactly at since: inside (since is inclusive)
    Row("ada@example.com", at(1.5), A, "42"),
    Row("ada@example.com", at(2), B, "42"),
    Row("ada@example.com", at(3), A, "7"),
    Row("ada@example.com", at(3.25), A, "7"),
    Row("bob@example.com", at(4), A, "42"),
    Row("bob@example.com", at(23.999), A, "9"),
    # refused attempts: not reads
    Row("ada@example.com", at(5), A, "13", "deny", "forbidden"),
    Row("ada@example.com", at(5.5), A, "13", "step_up", "step_up"),
    Row("bob@example.com", at(6), A, "42", "deny", "bulk_read_contained"),
    # outside the period or someone else: not counted
    Row("ada@example.com", SINCE - timedelta(microseconds=1), A, "1"),
    Row("ada@example.com", UNTIL, A, "2"),  # exactly at until: outside (until is exclusive)
    Row("carol@example.com", at(1), A, "3"),
]

# What the scope of ada + bob over [SINCE, UNTIL) must be, written out by hand.
EXPECTED_CUSTOMERS = [
    {
        "host": B,
        "customer": "42",
        "reads": 1,
        "first": "2026-11-01T11:00:00Z",
        "last": "2026-11-01T11:00:00Z",
        "users": ["ada@example.com"],
    },
    {
        "host": A,
        "customer": "42",
        "reads": 3,
        "first": "2026-11-01T09:00:00Z",
        "last": "2026-11-01T13:00:00Z",
        "users": ["ada@example.com", "bob@example.com"],
    },
    {
        "host": A,
        "customer": "7",
        "reads": 2,
        "first": "2026-11-01T12:00:00Z",
        "last": "2026-11-01T12:15:00Z",
        "users": ["ada@example.com"],
    },
    {
        "host": A,
        "customer": "9",
        "reads": 1,
        "first": "2026-11-02T08:59:56.400000Z",
        "last": "2026-11-02T08:59:56.400000Z",
        "users": ["bob@example.com"],
    },
]
EXPECTED_REFUSED = {
    "total": 3,
    "decisions": {"deny": 2, "step_up": 1},
    "customers": [
        {
            "host": A,
            "customer": "13",
            "attempts": 2,
            "first": "2026-11-01T14:00:00Z",
            "last": "2026-11-01T14:30:00Z",
            "users": ["ada@example.com"],
            "decisions": {"deny": 1, "step_up": 1},
        },
        {
            "host": A,
            "customer": "42",
            "attempts": 1,
            "first": "2026-11-01T15:00:00Z",
            "last": "2026-11-01T15:00:00Z",
            "users": ["bob@example.com"],
            "decisions": {"deny": 1},
        },
    ],
}


def people() -> dict[str, Employee]:
    return {
        email: add_employee(email=email, name=email.split("@")[0].title())
        for email in ("ada@example.com", "bob@example.com", "carol@example.com")
    }


def insert(rows: list[Row], who: dict[str, Employee]) -> None:
    AccessRecord.objects.bulk_create(
        AccessRecord(
            at=r.at,
            employee=who[r.who],
            session_id=1,
            method="GET",
            host=r.host,
            path=f"/customers/{r.customer}",
            rule=1,
            decision=r.decision,
            reason=r.reason,
            customer=r.customer,
            ip="10.0.0.1",
        )
        for r in rows
    )
    with connection.cursor() as cursor:
        for r in rows:
            if r.decision == "allow":
                at = connection.ops.adapt_datetimefield_value(r.at)
                cursor.execute(sql.NOTE_READ, [who[r.who].pk, r.host, r.customer, at, at])
