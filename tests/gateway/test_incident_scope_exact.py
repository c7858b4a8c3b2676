"""Issue 14, the breach scope's speed without losing exactness: ``scope()`` answers from the roll-up of admitted
reads (``CustomerRead``) where a customer's reads all lie inside the period, from the access record where they
cross one of its ends, and ``timeline()`` counts index ranges.  Each answer here is compared with a brute-force
answer worked out in Python from every access row: periods cut mid-day, inside one day, across several days, reads
exactly at since and at until, several users on one customer, refused attempts of every kind; then the same after
the retention step has pruned part of the record, and after real checks through the gateway.  In SQLite and in
production mode alike (the test database; the rows written as the check writes them, scope_fixtures.insert)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count, Max, Min
from gateway_checks import ACCESS_POLICY, ask, signed_in, use_policy
from scope_fixtures import A, B, Row, insert, people

from smishguard.accounts.services import add_employee
from smishguard.gateway import scope
from smishguard.gateway.models import AccessRecord, CustomerRead

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
EMAILS = ("ada@example.com", "bob@example.com", "carol@example.com")
REFUSALS = (("deny", "forbidden"), ("step_up", "step_up"), ("sign_in", "signed_out"), ("deny", "bulk_read_contained"))


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


def _rows() -> list[Row]:
    """Four days of reads by three people of eight customers on two hosts (the same ids on both), with refused
    attempts, a read at each midnight, and some reads exactly on the periods' ends below."""
    rng = random.Random(14)
    rows: list[Row] = []
    for i in range(400):
        at = DAY0 + timedelta(seconds=rng.randrange(0, 4 * 86400), microseconds=rng.choice((0, 1, 500_000)))
        who, host, customer = rng.choice(EMAILS), rng.choice((A, B)), str(rng.randrange(1, 9))
        if i % 9 == 0:
            decision, reason = REFUSALS[i % len(REFUSALS)]
            rows.append(Row(who, at, host, customer, decision, reason))
        else:
            rows.append(Row(who, at, host, customer))
    for n in range(5):  # at every midnight, and on the ends of the periods
        rows.append(Row("ada@example.com", day(n), A, "1"))
    rows += [
        Row("bob@example.com", day(1.5), A, "20"),
        Row("carol@example.com", day(1.5), A, "20"),
        Row("bob@example.com", day(2.25), B, "3", "deny", "forbidden"),
        Row("ada@example.com", day(0.5) - timedelta(microseconds=1), B, "40"),
        Row("ada@example.com", day(0.5), B, "40"),
        Row("ada@example.com", day(10), B, "9"),  # a customer read long after every period below
    ]
    return rows


# (since, until) in days after DAY0: mid-day to mid-day across days, inside one day, whole days, exactly on reads,
# everything, before everything, a microsecond.
PERIODS = [
    (0.5, 2.25),
    (1.2, 1.8),
    (1, 2),
    (0, 4),
    (0, 11),
    (1.5, 3.5),
    (2.25, 2.25 + 1 / 86400),
    (-3, -1),
    (3.999, 4.001),
    (-1, 0.5),
    (0.5, 20),
]


def brute_force(emails, since: datetime, until: datetime) -> dict[str, object]:
    """The scope worked out from every access row in Python, as ``Scope.as_dict`` gives it."""
    ids = {e.pk: e.email for e in scope.employees(emails)}
    reads: dict[tuple[str, str], list] = {}
    refused: dict[tuple[str, str], list] = {}
    for row in AccessRecord.objects.filter(employee_id__in=ids).order_by("at", "id"):
        if not since <= row.at < until:
            continue
        into = reads if row.decision == "allow" else refused
        acc = into.setdefault((row.host, row.customer), [0, row.at, row.at, set(), defaultdict(int)])
        acc[0] += 1
        acc[1], acc[2] = min(acc[1], row.at), max(acc[2], row.at)
        acc[3].add(ids[row.employee_id])
        acc[4][row.decision] += 1
    by_decision: dict[str, int] = defaultdict(int)
    for acc in refused.values():
        for decision, n in acc[4].items():
            by_decision[decision] += n
    return {
        "users": [ids[e.pk] for e in scope.employees(emails)],
        "since": scope.iso(since),
        "until": scope.iso(until),
        "total_customers": len(reads),
        "total_reads": sum(a[0] for a in reads.values()),
        "customers": [
            {
                "host": host,
                "customer": customer,
                "reads": a[0],
                "first": scope.iso(a[1]),
                "last": scope.iso(a[2]),
                "users": sorted(a[3]),
            }
            for (host, customer), a in sorted(reads.items())
        ],
        "refused": {
            "total": sum(a[0] for a in refused.values()),
            "decisions": dict(sorted(by_decision.items())),
            "customers": [
                {
                    "host": host,
                    "customer": customer,
                    "attempts": a[0],
                    "first": scope.iso(a[1]),
                    "last": scope.iso(a[2]),
                    "users": sorted(a[3]),
                    "decisions": dict(sorted(a[4].items())),
                }
                for (host, customer), a in sorted(refused.items())
            ],
        },
    }


def brute_force_timeline(emails, since: datetime, until: datetime) -> list[tuple[datetime, int, int]]:
    line = scope.timeline(scope.employees(emails), since, until)  # its buckets' starts; the counts from the rows
    ids = [e.pk for e in scope.employees(emails)]
    rows = [r for r in AccessRecord.objects.filter(employee_id__in=ids) if since <= r.at < until]
    starts = [b.start for b in line.buckets]
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else until
        inside = [r for r in rows if start <= r.at < end]
        out.append((start, sum(r.decision == "allow" for r in inside), sum(r.decision != "allow" for r in inside)))
    return out


def rollup_of_the_record() -> dict[tuple[int, str, str], tuple[int, datetime, datetime]]:
    """What the roll-up must hold: the ORM's aggregate of the admitted access rows."""
    return {
        (r["employee_id"], r["host"], r["customer"]): (r["n"], r["first"], r["last"])
        for r in AccessRecord.objects.filter(decision="allow", employee__isnull=False)
        .values("employee_id", "host", "customer")
        .annotate(n=Count("*"), first=Min("at"), last=Max("at"))
        .order_by()
    }


def rollup() -> dict[tuple[int, str, str], tuple[int, datetime, datetime]]:
    return {
        (r.employee_id, r.host, r.customer): (r.reads, r.first_at, r.last_at)
        for r in CustomerRead.objects.order_by("id")
    }


@pytest.fixture
def records(db):
    who = people()
    insert(_rows(), who)
    return who


def test_the_rollup_is_the_aggregate_of_the_admitted_rows(records):
    assert rollup() == rollup_of_the_record()
    assert len(rollup()) >= 20  # the data reach many (employee, host, customer)


@pytest.mark.parametrize(
    "emails",
    [EMAILS, ("ada@example.com",), ("bob@example.com", "carol@example.com")],
    ids=["three-users", "one-user", "two-users"],
)
@pytest.mark.parametrize("period", PERIODS, ids=[f"{a}-{b}" for a, b in PERIODS])
def test_the_scope_equals_the_brute_force_answer(records, emails, period):
    since, until = day(period[0]), day(period[1])
    fast = scope.scope(scope.employees(emails), since, until).as_dict()
    assert fast == brute_force(emails, since, until)


def test_the_boundaries_are_since_inclusive_and_until_exclusive(records):
    # ada read B/40 a microsecond before noon and at noon: a period from noon has the second only, one to noon
    # the first only; bob and carol both read A/20 at 1.5 days
    ada = scope.employees(["ada@example.com"])
    from_noon = scope.scope(ada, day(0.5), day(0.75))
    b4 = [c for c in from_noon.customers if (c.host, c.customer) == (B, "40")]
    assert [(c.first, c.last) for c in b4] == [(day(0.5), day(0.5))]
    to_noon = scope.scope(ada, day(0.25), day(0.5))
    b4 = [c for c in to_noon.customers if (c.host, c.customer) == (B, "40")]
    assert [(c.first, c.last) for c in b4] == [(day(0.5) - timedelta(microseconds=1),) * 2]
    both = scope.scope(scope.employees(["bob@example.com", "carol@example.com"]), day(1.5), day(1.5001))
    assert [(c.host, c.customer, c.users) for c in both.customers if c.customer == "20"] == [
        (A, "20", ("bob@example.com", "carol@example.com"))
    ]


def test_a_scope_of_customers_read_only_inside_reads_the_rollup_alone(records):
    """Over every row there is, each customer's reads lie inside the period: no customer needs the access record's
    reads (the statement for the customers cut by an end finds none)."""
    ids = [e.pk for e in scope.employees(EMAILS)]
    since, until = day(-1), day(11)
    reads = sorted(tuple(r) for r in scope._fetch(*scope.reads_statement(ids, since, until)))
    assert reads == sorted(tuple(r) for r in scope.fetch(scope.inside_rows(ids, since, until)))
    assert len(reads) == len(rollup())


@pytest.mark.parametrize("period", [(0.5, 2.25), (0, 2), (-1, 11), (1.2, 1.8), (0.5, 300)], ids=str)
def test_the_timeline_equals_the_brute_force_counts(records, period):
    since, until = day(period[0]), day(period[1])
    line = scope.timeline(scope.employees(EMAILS), since, until)
    assert [(b.start, b.reads, b.refused) for b in line.buckets] == brute_force_timeline(EMAILS, since, until)
    assert sum(b.reads + b.refused for b in line.buckets) > 0


# ---- after real checks through the gateway ----------------------------------------------------------------------


def test_after_real_checks_the_rollup_and_the_scope_are_exact(db, settings):
    use_policy(settings, ACCESS_POLICY)
    dan = add_employee(email="dan@example.com", name="Dan", groups=["support"])
    eve = add_employee(email="eve@example.com", name="Eve", groups=["support"])
    start = datetime.now(UTC) - timedelta(seconds=1)
    for who, paths in ((dan, ["1", "1", "2", "3/secret", "2"]), (eve, ["2", "4", "4/secret"])):
        client, _ = signed_in(who)
        for path in paths:
            ask(client, f"https://customers.example.com/customers/{path}")
    end = datetime.now(UTC) + timedelta(seconds=1)
    assert rollup() == rollup_of_the_record()
    emails = ["dan@example.com", "eve@example.com"]
    fast = scope.scope(scope.employees(emails), start, end).as_dict()
    assert fast == brute_force(emails, start, end)
    assert (fast["total_customers"], fast["total_reads"], fast["refused"]["total"]) == (3, 6, 2)
    # from dan's second read of customer 2: his customer 1 is all before, his customer 2 on both sides
    middle = AccessRecord.objects.filter(decision="allow").order_by("at", "id")[3].at
    cut = scope.scope(scope.employees(emails), middle, end).as_dict()
    assert cut == brute_force(emails, middle, end)
    assert [(c["customer"], c["reads"], c["users"]) for c in cut["customers"]] == [
        ("2", 2, ["dan@example.com", "eve@example.com"]),
        ("4", 1, ["eve@example.com"]),
    ]
