"""Breach scope: every customer a set of accounts read in a period, from the access record.

``smishguard incident scope`` and the console's Incidents page both ask ``scope()`` (and ``timeline()`` for the
chart).  A customer is its host plus its id: ``42`` on ``customers.example.com`` and ``42`` on
``billing.example.com`` are two customers.  Only admitted reads (decision ``allow``) are reads; every other
decision on a customer-data route (``deny``, ``step_up``, ``sign_in``) is a refused attempt, counted apart.

The period is ``since <= at < until`` (since inclusive, until exclusive), in UTC.

One grouped query answers the scope: ``GROUP BY employee, decision, host, customer`` over the rows of the chosen
employees in the period.  The index ``gateway_access_scope`` (migration 0006_scope_index) holds exactly those
columns in that order plus ``at``, so both databases answer from the index alone (SQLite walks it in order and
groups as it goes, without a sort; PostgreSQL does an index-only scan).  docs/gateway.md, "Breach scope".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import CharField, Count, Max, Min, Q, TextField
from django.db.models.functions import Cast, Substr, Trunc

from smishguard.accounts.models import Employee
from smishguard.gateway.errors import ScopeInputInvalid
from smishguard.gateway.models import AccessRecord

ALLOW = "allow"
MAX_USERS = 100  # a scope names the accounts an incident concerns: a handful, not the company


def iso(when: datetime) -> str:
    """A UTC instant as ISO 8601 with a ``Z`` (what the report prints and the parser reads back)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_time(value: str, *, name: str) -> datetime:
    """An ISO 8601 date or date and time; without an offset it is UTC; a bare date is its midnight UTC."""
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?", text, flags=re.IGNORECASE):
                raise ValueError(text)
            parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
    except ValueError:
        raise ScopeInputInvalid(
            f"{name} must be an ISO 8601 date or time such as 2026-11-01 or 2026-11-01T09:30:00Z, not {value!r}"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def check_period(since: datetime, until: datetime) -> None:
    if until <= since:
        raise ScopeInputInvalid(f"until ({iso(until)}) must be later than since ({iso(since)})")


def employees(emails: Iterable[str]) -> tuple[Employee, ...]:
    """The employees named by ``emails`` (any case; each once, in the order given); an unknown one is refused.

    Any status: an offboarded or suspended account is exactly what an incident asks about."""
    wanted: list[str] = []
    for raw in emails:
        for part in re.split(r"[\s,;]+", raw):
            email = part.strip().lower()
            if email and email not in wanted:
                wanted.append(email)
    if not wanted:
        raise ScopeInputInvalid("name at least one employee (--user EMAIL)")
    if len(wanted) > MAX_USERS:
        raise ScopeInputInvalid(f"at most {MAX_USERS} employees in one scope, not {len(wanted)}")
    found = {e.email: e for e in Employee.objects.filter(email__in=wanted)}
    missing = [email for email in wanted if email not in found]
    if missing:
        raise ScopeInputInvalid(
            f"no employee with the email {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return tuple(found[email] for email in wanted)


class CustomerReads(NamedTuple):
    """One customer (host + id) and the admitted reads of it in the period (a NamedTuple: a scope may make tens of
    thousands, and a tuple is made faster than a frozen dataclass)."""

    host: str
    customer: str
    reads: int
    first: datetime
    last: datetime
    users: tuple[str, ...]  # the emails of the accounts that read it, sorted

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "customer": self.customer,
            "reads": self.reads,
            "first": iso(self.first),
            "last": iso(self.last),
            "users": list(self.users),
        }


class RefusedAttempts(NamedTuple):
    """One customer (host + id) and the attempts on it that the gateway refused, by decision."""

    host: str
    customer: str
    attempts: int
    first: datetime
    last: datetime
    users: tuple[str, ...]
    decisions: tuple[tuple[str, int], ...]  # (deny | step_up | sign_in, count), by decision

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "customer": self.customer,
            "attempts": self.attempts,
            "first": iso(self.first),
            "last": iso(self.last),
            "users": list(self.users),
            "decisions": dict(self.decisions),
        }


@dataclass(frozen=True)
class Scope:
    users: tuple[str, ...]
    since: datetime
    until: datetime
    customers: tuple[CustomerReads, ...]  # by host, then customer id
    refused: tuple[RefusedAttempts, ...]  # by host, then customer id

    @property
    def total_customers(self) -> int:
        return len(self.customers)

    @property
    def total_reads(self) -> int:
        return sum(c.reads for c in self.customers)

    @property
    def refused_total(self) -> int:
        return sum(r.attempts for r in self.refused)

    def refused_by_decision(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for r in self.refused:
            for decision, n in r.decisions:
                totals[decision] += n
        return dict(sorted(totals.items()))

    def as_dict(self) -> dict[str, object]:
        return {
            "users": list(self.users),
            "since": iso(self.since),
            "until": iso(self.until),
            "total_customers": self.total_customers,
            "total_reads": self.total_reads,
            "customers": [c.as_dict() for c in self.customers],
            "refused": {
                "total": self.refused_total,
                "decisions": self.refused_by_decision(),
                "customers": [r.as_dict() for r in self.refused],
            },
        }


def scope_rows(employee_ids: Sequence[int], since: datetime, until: datetime):
    """The one grouped query: (employee, decision, host, customer, count, first, last), in the index's order."""
    return (
        AccessRecord.objects.filter(employee_id__in=employee_ids, at__gte=since, at__lt=until)
        .values_list("employee_id", "decision", "host", "customer")
        # The first and last times as text: PostgreSQL's "2026-11-01 09:00:00.5+00" (the connection's time zone is
        # UTC), SQLite's "2026-11-01 09:00:00.5" as stored; read back by datetime.fromisoformat, far faster than
        # the drivers' and Django's per-value loaders on tens of thousands of groups.
        .annotate(n=Count("*"), first=Cast(Min("at"), TextField()), last=Cast(Max("at"), TextField()))
        .order_by("employee_id", "decision", "host", "customer")
    )


def fetch_scope_rows(employee_ids: Sequence[int], since: datetime, until: datetime) -> list[tuple]:
    """``scope_rows`` run as its compiled SQL, without the ORM's per-value converters: a scope of a million reads
    has tens of thousands of groups, and those converters cost more than the query.  The statement is the ORM's
    own (tests/gateway/test_incident_scope.py checks the rows equal the ORM's)."""
    sql, params = scope_rows(employee_ids, since, until).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _aware(text: str) -> datetime:
    """A time as ``scope_rows`` gives it (text, UTC: PostgreSQL's ends in "+00", SQLite's has no offset) as an
    aware datetime in UTC, parsed in one call."""
    if text.endswith("+00"):
        return datetime.fromisoformat(text)  # its tzinfo is datetime.UTC itself
    if len(text) <= 26:  # "YYYY-MM-DD HH:MM:SS.ffffff", without an offset: UTC, as Django stores it
        return datetime.fromisoformat(text + "+00:00")
    return datetime.fromisoformat(text).astimezone(UTC)


def scope(people: Sequence[Employee], since: datetime, until: datetime) -> Scope:
    """Every customer ``people`` read (admitted) in ``since <= at < until``, and their refused attempts apart.

    Written for speed (one pass over the groups, lists for accumulators; ISO text compares as the instants do,
    so first and last are kept as text until the end)."""
    check_period(since, until)
    email = {p.pk: p.email for p in people}
    reads: dict[tuple[str, str], list] = {}
    refused: dict[tuple[str, str], list] = {}
    for employee_id, decision, host, customer, n, first, last in fetch_scope_rows(list(email), since, until):
        into = reads if decision == ALLOW else refused
        acc = into.get((host, customer))
        if acc is None:
            into[(host, customer)] = [n, first, last, {employee_id}, {decision: n}]
            continue
        acc[0] += n
        acc[1] = min(acc[1], first)
        acc[2] = max(acc[2], last)
        acc[3].add(employee_id)
        acc[4][decision] = acc[4].get(decision, 0) + n
    who: dict[frozenset[int], tuple[str, ...]] = {}

    def users(ids: set[int]) -> tuple[str, ...]:
        key = frozenset(ids)
        found = who.get(key)
        if found is None:
            found = who[key] = tuple(sorted(email[i] for i in ids))
        return found

    return Scope(
        users=tuple(p.email for p in people),
        since=since,
        until=until,
        customers=tuple(
            CustomerReads(host, customer, a[0], _aware(a[1]), _aware(a[2]), users(a[3]))
            for (host, customer), a in sorted(reads.items())
        ),
        refused=tuple(
            RefusedAttempts(host, customer, a[0], _aware(a[1]), _aware(a[2]), users(a[3]), tuple(sorted(a[4].items())))
            for (host, customer), a in sorted(refused.items())
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# Reads over time, for the chart: one bucket per hour (a period up to 3 days), day (up to 400 days) or month.


@dataclass(frozen=True)
class Bucket:
    start: datetime
    reads: int
    refused: int


@dataclass(frozen=True)
class Timeline:
    unit: str  # hour | day | month
    buckets: tuple[Bucket, ...]  # every bucket of the period, in order, empty ones included

    @property
    def peak(self) -> int:
        return max((b.reads + b.refused for b in self.buckets), default=0)


def bucket_unit(since: datetime, until: datetime) -> str:
    span = until - since
    if span <= timedelta(days=3):
        return "hour"
    if span <= timedelta(days=400):
        return "day"
    return "month"


# SQLite keeps a time as text, "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: a prefix is the bucket, with no function
# call per row (Django's Trunc on SQLite calls back into Python for each row).  PostgreSQL truncates natively.
_PREFIX = {"hour": 13, "day": 10, "month": 7}


def _floor(when: datetime, unit: str) -> datetime:
    when = when.astimezone(UTC)
    if unit == "hour":
        return when.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next(when: datetime, unit: str) -> datetime:
    if unit == "hour":
        return when + timedelta(hours=1)
    if unit == "day":
        return when + timedelta(days=1)
    return (when.replace(day=28) + timedelta(days=4)).replace(day=1)


def _bucket_start(value: object, unit: str) -> datetime:
    if isinstance(value, datetime):
        return _floor(value, unit)
    text = str(value)
    if unit == "hour":
        return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
    if unit == "day":
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)


def timeline_rows(employee_ids: Sequence[int], since: datetime, until: datetime, unit: str):
    if connection.vendor == "postgresql":
        bucket = Trunc("at", unit, tzinfo=UTC)
    else:
        bucket = Substr("at", 1, _PREFIX[unit], output_field=CharField())
    return (
        AccessRecord.objects.filter(employee_id__in=employee_ids, at__gte=since, at__lt=until)
        .annotate(bucket=bucket)
        .values_list("bucket")
        .annotate(
            # Count("decision"), not Count("*"): a filtered count needs a column, and this one is in the index
            reads=Count("decision", filter=Q(decision=ALLOW)),
            refused=Count("decision", filter=~Q(decision=ALLOW)),
        )
        .order_by("bucket")
    )


def timeline(people: Sequence[Employee], since: datetime, until: datetime) -> Timeline:
    """Admitted reads and refused attempts per hour, day or month of the period (for the console's chart)."""
    check_period(since, until)
    unit = bucket_unit(since, until)
    counts: dict[datetime, tuple[int, int]] = {}
    for value, n_reads, n_refused in timeline_rows([p.pk for p in people], since, until, unit):
        start = _bucket_start(value, unit)
        before = counts.get(start, (0, 0))
        counts[start] = (before[0] + n_reads, before[1] + n_refused)
    buckets: list[Bucket] = []
    start = _floor(since, unit)
    while start < until:
        n_reads, n_refused = counts.get(start, (0, 0))
        buckets.append(Bucket(start, n_reads, n_refused))
        start = _next(start, unit)
    return Timeline(unit, tuple(buckets))
