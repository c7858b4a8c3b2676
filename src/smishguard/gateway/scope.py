"""Breach scope: every customer a set of accounts read in a period, from the access record.

``smishguard incident scope`` and the console's Incidents page both ask ``scope()`` (and ``timeline()`` for the
chart).  A customer is its host plus its id: ``42`` on ``customers.example.com`` and ``42`` on
``billing.example.com`` are two customers.  Only admitted reads (decision ``allow``) are reads; every other
decision on a customer-data route (``deny``, ``step_up``, ``sign_in``) is a refused attempt, counted apart.

The period is ``since <= at < until`` (since inclusive, until exclusive), in UTC.

The answer comes from the roll-up of admitted reads (``CustomerRead``: one row per employee, host and customer,
with the number of reads, the first and the last, kept by the check's one upsert) wherever it can, and from the
access record only where it must:

- a customer whose reads by that employee all lie inside the period (its first and last inside): its roll-up row
  is the answer (one row, however many reads);
- a customer read both inside and outside the period: its reads inside, counted from the access record, one range
  of the index ``gateway_access_scope`` (employee, decision, host, customer, at) per such customer;
- the refused attempts (every decision but ``allow``, a few percent of the rows): grouped from the same index,
  whose two ranges around ``allow`` skip the admitted rows.

So the cost follows the customers read in the period, and the reads only of customers read on both sides of a
boundary.  The chart (``timeline``) counts each bucket's rows as an index range and takes the refused attempts
out.  docs/gateway.md, "Breach scope".
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Max, Min, Q, TextField
from django.db.models.functions import Cast

from smishguard.accounts.models import Employee
from smishguard.db import Columns
from smishguard.gateway.errors import ScopeInputInvalid
from smishguard.gateway.models import AccessRecord, CustomerRead

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


def _text(expression) -> Cast:
    return Cast(expression, TextField())


def inside_rows(employee_ids: Sequence[int], since: datetime, until: datetime):
    """The roll-up's customers whose every admitted read is inside the period (first and last in it): their rows
    are the answer as they stand.  (employee, host, customer, reads, first, last)."""
    return (
        CustomerRead.objects.filter(employee_id__in=employee_ids, first_at__gte=since, last_at__lt=until)
        .values_list("employee_id", "host", "customer", "reads")
        # The first and last times as text: PostgreSQL's "2026-11-01 09:00:00.5+00" (the connection's time zone is
        # UTC), SQLite's "2026-11-01 09:00:00.5" as stored; read back by datetime.fromisoformat, far faster than
        # the drivers' and Django's per-value loaders on tens of thousands of rows.
        .annotate(first=_text("first_at"), last=_text("last_at"))
        .order_by()
    )


_r = Columns(CustomerRead, "r")
_a = Columns(AccessRecord, "a")
# The admitted reads, in one statement (so one snapshot: a read committed meanwhile cannot move a customer from
# one half to the other and be counted twice), each row (employee, host, customer, reads, first, last):
# - the roll-up rows of the customers whose every read is inside the period, as they stand (inside_rows is its
#   ORM form);
# - the customers read both inside and outside the period (the roll-up's row overlaps the period without lying in
#   it): their reads inside it, counted from the access record, one index range per customer
#   (gateway_access_scope: employee, decision, host, customer, at).
# Parameters: the employee ids, since, until; the employee ids, since, until, since, until, since, until.
_READS = (
    f"SELECT {_r['employee']}, {_r['host']}, {_r['customer']}, {_r['reads']}, "  # noqa: S608 - names from _meta
    f"CAST({_r['first_at']} AS TEXT), CAST({_r['last_at']} AS TEXT) FROM {_r.table} "
    f"WHERE {_r['employee']} IN ({{ids}}) AND {_r['first_at']} >= %s AND {_r['last_at']} < %s "
    "UNION ALL "
    f"SELECT {_r['employee']}, {_r['host']}, {_r['customer']}, COUNT(*), "
    f"CAST(MIN({_a['at']}) AS TEXT), CAST(MAX({_a['at']}) AS TEXT) "
    # CROSS JOIN: SQLite keeps this order (the roll-up's rows outside, the index ranges inside) whatever it guesses
    # of the tables' sizes; PostgreSQL plans it as the inner join it is.
    f"FROM {_r.table} CROSS JOIN {_a.table} "
    f"WHERE {_r['employee']} IN ({{ids}}) AND {_r['last_at']} >= %s AND {_r['first_at']} < %s "
    f"AND ({_r['first_at']} < %s OR {_r['last_at']} >= %s) "
    f"AND {_a['employee']} = {_r['employee']} AND {_a['decision']} = '{ALLOW}' "
    f"AND {_a['host']} = {_r['host']} AND {_a['customer']} = {_r['customer']} "
    f"AND {_a['at']} >= %s AND {_a['at']} < %s "
    # Grouped by the roll-up row (its id decides host and customer), in the order its index gives them, so SQLite
    # groups as it goes instead of sorting every read first.
    f"GROUP BY {_r['employee']}, {_r['last_at']}, {_r['id']}"
)


def reads_statement(employee_ids: Sequence[int], since: datetime, until: datetime) -> tuple[str, list]:
    moment = connection.ops.adapt_datetimefield_value
    lo, hi = moment(since), moment(until)
    ids = [int(i) for i in employee_ids]
    return _READS.format(ids=", ".join(["%s"] * len(ids))), [*ids, lo, hi, *ids, lo, hi, lo, hi, lo, hi]


def refused_rows(employee_ids: Sequence[int], since: datetime, until: datetime, *, below: bool):
    """The refused attempts (every decision but ``allow``), grouped: (employee, decision, host, customer, count,
    first, last).  Two queries, the decisions that sort before ``allow`` (``below``) and those after, rather than
    ``<> 'allow'``: each is a range of the index gateway_access_scope, so the admitted rows (most of them) are
    never read."""
    decision = Q(decision__lt=ALLOW) if below else Q(decision__gt=ALLOW)
    return (
        AccessRecord.objects.filter(decision, employee_id__in=employee_ids, at__gte=since, at__lt=until)
        .values_list("employee_id", "decision", "host", "customer")
        .annotate(n=Count("*"), first=_text(Min("at")), last=_text(Max("at")))
        .order_by()
    )


def _fetch(statement: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def fetch(query) -> list[tuple]:
    """A query run as its compiled SQL, without the ORM's per-value converters: a scope of a million reads has
    tens of thousands of rows, and those converters cost more than the query.  The statement is the ORM's own
    (tests/gateway/test_incident_scope.py checks the rows equal the ORM's)."""
    return _fetch(*query.query.sql_with_params())


def _aware(text: str) -> datetime:
    """A time as the scope's queries give it (text, UTC: PostgreSQL's ends in "+00", SQLite's has no offset) as an
    aware datetime in UTC, parsed in one call."""
    if text.endswith("+00"):
        return datetime.fromisoformat(text)  # its tzinfo is datetime.UTC itself
    if len(text) <= 26:  # "YYYY-MM-DD HH:MM:SS.ffffff", without an offset: UTC, as Django stores it
        return datetime.fromisoformat(text + "+00:00")
    return datetime.fromisoformat(text).astimezone(UTC)


def _add(into: dict[tuple[str, str], list], row: tuple) -> None:
    """Fold one (employee, decision, host, customer, count, first, last) into its customer's accumulator."""
    employee_id, decision, host, customer, n, first, last = row
    acc = into.get((host, customer))
    if acc is None:
        into[(host, customer)] = [n, first, last, {employee_id}, {decision: n}]
        return
    acc[0] += n
    acc[1] = min(acc[1], first)
    acc[2] = max(acc[2], last)
    acc[3].add(employee_id)
    acc[4][decision] = acc[4].get(decision, 0) + n


def scope(people: Sequence[Employee], since: datetime, until: datetime) -> Scope:
    """Every customer ``people`` read (admitted) in ``since <= at < until``, and their refused attempts apart.

    The reads in one statement (docs/gateway.md, "Breach scope": the roll-up's rows of the customers read only
    inside the period, and the access record's reads inside it of the customers read inside and outside it), the
    refused attempts in two (each a range of an index).  Written for speed (one pass, lists for accumulators; ISO
    text compares as the instants do, so first and last are kept as text until the end)."""
    check_period(since, until)
    email = {p.pk: p.email for p in people}
    ids = list(email)
    # (host, customer) -> [reads, first, last, the first reader's id, the readers' ids once there is a second]
    reads: dict[tuple[str, str], list] = {}
    get = reads.get
    for employee_id, host, customer, n, first, last in _fetch(*reads_statement(ids, since, until)):
        key = (host, customer)
        acc = get(key)
        if acc is None:
            reads[key] = [n, first, last, employee_id, None]
            continue
        acc[0] += n
        acc[1] = min(acc[1], first)
        acc[2] = max(acc[2], last)
        if acc[4] is None:
            acc[4] = {acc[3]}
        acc[4].add(employee_id)
    refused: dict[tuple[str, str], list] = {}
    for below in (True, False):
        for row in fetch(refused_rows(ids, since, until, below=below)):
            _add(refused, row)
    who: dict[frozenset[int], tuple[str, ...]] = {}

    def users(ids: set[int]) -> tuple[str, ...]:
        key = frozenset(ids)
        found = who.get(key)
        if found is None:
            found = who[key] = tuple(sorted(email[i] for i in ids))
        return found

    alone = {pk: (address,) for pk, address in email.items()}
    return Scope(
        users=tuple(p.email for p in people),
        since=since,
        until=until,
        customers=tuple(
            CustomerReads(
                host, customer, a[0], _aware(a[1]), _aware(a[2]), alone[a[3]] if a[4] is None else users(a[4])
            )
            for (host, customer), a in ((key, reads[key]) for key in sorted(reads))
        ),
        refused=tuple(
            RefusedAttempts(host, customer, a[0], _aware(a[1]), _aware(a[2]), users(a[3]), tuple(sorted(a[4].items())))
            for (host, customer), a in ((key, refused[key]) for key in sorted(refused))
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


# The access rows of some employees in [lo, hi).  Parameters: the employee ids, lo, hi.
_COUNT = (
    f"SELECT COUNT(*) FROM {_a.table} "  # noqa: S608 - names from _meta
    f"WHERE {_a['employee']} IN ({{ids}}) AND {_a['at']} >= %s AND {_a['at']} < %s"
)


def timeline(people: Sequence[Employee], since: datetime, until: datetime) -> Timeline:
    """Admitted reads and refused attempts per hour, day or month of the period (for the console's chart).

    Per bucket, one count of the people's access rows in it (an index range of gateway_access_employee_at: the
    database steps through the entries without reading a column or calling a function per row), less the refused
    attempts in it (few: fetched once, as refused_rows does, and put in their buckets here)."""
    check_period(since, until)
    unit = bucket_unit(since, until)
    ids = [p.pk for p in people]
    starts: list[datetime] = []
    start = _floor(since, unit)
    while start < until:
        starts.append(start)
        start = _next(start, unit)
    bounds = [since, *starts[1:], until]  # bucket i is [bounds[i], bounds[i + 1])
    refused_at = sorted(
        at
        for decision in (Q(decision__lt=ALLOW), Q(decision__gt=ALLOW))  # two ranges of an index, as refused_rows
        for at in AccessRecord.objects.filter(decision, employee_id__in=ids, at__gte=since, at__lt=until)
        .values_list("at", flat=True)
        .order_by()
    )
    count = _COUNT.format(ids=", ".join(["%s"] * len(ids)))
    moment = connection.ops.adapt_datetimefield_value
    buckets: list[Bucket] = []
    with connection.cursor() as cursor:
        for i, start in enumerate(starts):
            lo, hi = bounds[i], bounds[i + 1]
            cursor.execute(count, [*ids, moment(lo), moment(hi)])
            (total,) = cursor.fetchone()
            n_refused = bisect_left(refused_at, hi) - bisect_left(refused_at, lo)
            buckets.append(Bucket(start, total - n_refused, n_refused))
    return Timeline(unit, tuple(buckets))
