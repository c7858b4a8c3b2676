"""The access record and containment at the check: every decision on a customer-data route is stored before the
answer leaves, and a bulk read is contained at once.

``check.evaluate`` calls :func:`record` when the deciding rule's resource named a ``customer``.  What it costs on
such a route: for a signed-out or refused request one INSERT; for a signed-in employee the policy would admit (or
ask to step up), one short transaction on the employee's containment row: lock it (``sql.LOCK_EMPLOYEE``, which
also says whether the employee is contained and whether the session came from a new network), one indexed count
over the employee's customers read in the window (``sql.DISTINCT_ADMITTED`` on ``CustomerRead``: its cost is the
number of distinct customers, not of reads), one INSERT, and for an admitted read one upsert of that customer's
``CustomerRead`` row (``sql.NOTE_READ``: its reads, first and last, which the breach scope reads too).  Two workers
checking the same employee at once therefore count one after the other (PostgreSQL: the row lock; SQLite:
``BEGIN IMMEDIATE``, the database's one writer), so no more than the threshold of distinct customers gets through.
The statements run on the database driver's own cursor in a transaction of ``db.hot_transaction`` (the check is
the hot path); the rare steps that need the ORM to write (the employee's first check makes their containment row,
a new session's network is worked out once, a containment revokes, audits and alerts) roll that transaction back
and do the check again in ``atomic()``.

Containment: an employee admitted to ``max_customers`` distinct customers (host and id) within ``window_minutes``
who asks for one more is refused with ``bulk_read_contained``; in the same transaction the containment row is set,
every session of the employee is revoked (``accounts.sessions.revoke``), the event is audited and the security
team's alert is owed (``outbox.alerts.security_alert``).  From then on every customer-data route is refused to the
employee, on any session (a new sign-in included), until released (``gateway.containment``).

Fail closed: when the transaction fails (the database refuses the write), the request is refused (403,
``record_failed``) and nothing of it is kept; it is never admitted without its row.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.models import Employee, Session
from smishguard.audit import Action
from smishguard.audit import record as audit
from smishguard.clientaddr import parse_address
from smishguard.db import adapt_time, execute, fetch_one, hot_transaction, one_writer
from smishguard.gateway import sql
from smishguard.gateway.models import AccessRecord, Containment, SessionNetwork
from smishguard.gateway.normalise import NormalRequest
from smishguard.gateway.policy import ALLOW, DENY, STEP_UP, Decision, Who
from smishguard.gateway.rules import Limits, current
from smishguard.outbox.alerts import security_alert

log = logging.getLogger("smishguard.gateway")

CONTAINED = "bulk_read_contained"
RECORD_FAILED = "record_failed"
NEW_NETWORK_LOOKBACK = timedelta(days=30)
REVOKE_REASON = "bulk read contained"
CUSTOMER_MAX = AccessRecord._meta.get_field("customer").max_length
HOST_MAX = AccessRecord._meta.get_field("host").max_length


@dataclass(frozen=True)
class Outcome:
    """What the access record changed about the policy's answer: None (as decided), or a refusal's reason."""

    refusal: str | None = None


AS_DECIDED = Outcome()


def record(
    request: HttpRequest,
    asked: NormalRequest,
    decision: Decision,
    *,
    session: sessions.SessionValues | None,
    who: Who | None,
    client: str | None,
) -> Outcome:
    """Store the decision on a customer-data route (``decision.customer`` is set) and apply containment; the
    answer must not leave before this returns."""
    row = _Row(asked, decision, session, client)
    if len(decision.customer or "") > CUSTOMER_MAX or len(asked.host) > HOST_MAX:
        # Not storable as it is (PostgreSQL would refuse it, SQLite keep it whole): refused alike in both modes.
        log.error("gateway: access record not written, request refused: a customer id or host too long to keep")
        return Outcome(RECORD_FAILED)
    try:
        if session is None or who is None or decision.decision not in (ALLOW, STEP_UP):
            with one_writer():  # one INSERT: a transaction of its own
                row.insert(decision.decision, decision.reason)
            return AS_DECIDED
        try:  # the usual case, in a short transaction on the driver's cursor (db.hot_transaction) ...
            with hot_transaction():
                return _contain_or_admit(request, row, decision, session, who, full=False)
        except _NeedsFullTransaction:
            pass
        with one_writer(), transaction.atomic():  # ... else afresh, where the ORM may write too
            return _contain_or_admit(request, row, decision, session, who, full=True)
    except DatabaseError as exc:
        log.error(  # one line: the refusal is the answer; the statement's text says what failed
            "gateway: access record not written, request refused (%s): %s", type(exc).__name__, str(exc)[:300]
        )
        return Outcome(RECORD_FAILED)


class _NeedsFullTransaction(Exception):
    """Met in the short transaction what only the ORM does (the employee's first check, the session's new-network
    question, a containment): that transaction is rolled back and the check done again in ``atomic()``."""


class _Row:
    """The access row of one check, written once with its decision and reason."""

    __slots__ = ("asked", "at", "client", "decision", "session")

    def __init__(
        self, asked: NormalRequest, decision: Decision, session: sessions.SessionValues | None, client: str | None
    ):
        self.asked, self.decision, self.session, self.client = asked, decision, session, client
        self.at = timezone.now()

    def insert(self, decision: str, reason: str) -> None:
        session = self.session
        sql.INSERT_ACCESS.write(
            [
                self.at,
                session.employee_id if session is not None else None,
                session.pk if session is not None else None,
                self.asked.method,
                self.asked.host,
                self.asked.path,
                self.decision.rule,
                decision,
                reason,
                self.decision.customer,
                _address(self.client),
            ]
        )


def _contain_or_admit(
    request: HttpRequest, row: _Row, decision: Decision, session: sessions.SessionValues, who: Who, *, full: bool
) -> Outcome:
    """Inside the transaction: lock the employee's row, then refuse (contained), count and admit, or contain.
    Not ``full`` (the short transaction): raises :class:`_NeedsFullTransaction` where the ORM must write."""
    contained_at, released_at, new_network = _lock(session, full=full)
    if contained_at is not None:
        row.insert(DENY, CONTAINED)
        return Outcome(CONTAINED)
    if decision.decision == STEP_UP:  # not a read yet: the sign-in page asks for a key touch first
        row.insert(decision.decision, decision.reason)
        return AS_DECIDED
    limits = current().containment.limits_for(who.groups)
    lowered = False
    if session.created_at > row.at - timedelta(minutes=limits.new_network_minutes):  # the session's first minutes
        if new_network is None and not full:
            raise _NeedsFullTransaction
        lowered = new_network if new_network is not None else _work_out_new_network(session)
    threshold = limits.threshold(new_network=lowered)
    since = row.at - timedelta(minutes=limits.window_minutes)
    if released_at is not None and released_at > since:  # a release starts the count afresh
        since = released_at
    distinct, seen = fetch_one(
        sql.DISTINCT_ADMITTED, [row.asked.host, decision.customer, session.employee_id, adapt_time(since)]
    )
    if seen or distinct < threshold:
        row.insert(decision.decision, decision.reason)
        at = adapt_time(row.at)  # the customer read, for the next count and the scope (gateway.models.CustomerRead)
        execute(sql.NOTE_READ, [session.employee_id, row.asked.host, decision.customer, at, at])
        return AS_DECIDED
    if not full:
        raise _NeedsFullTransaction
    row.insert(DENY, CONTAINED)
    _contain(request, row, session, customers=distinct + 1, threshold=threshold, limits=limits, new_network=lowered)
    return Outcome(CONTAINED)


def _lock(session: sessions.SessionValues, *, full: bool) -> tuple[datetime | None, datetime | None, bool | None]:
    """Lock the employee's containment row (made on their first check, in the full transaction); (contained_at,
    released_at, the session's new-network answer or None when not worked out)."""
    statement = sql.LOCK_EMPLOYEE[connection.vendor]
    found = fetch_one(statement, [session.pk, session.employee_id])
    if found is None:
        if not full:
            raise _NeedsFullTransaction
        Containment.objects.bulk_create([Containment(employee_id=session.employee_id)], ignore_conflicts=True)
        found = fetch_one(statement, [session.pk, session.employee_id])
    contained_at, released_at, new_network = found
    return (
        _from_db(contained_at),
        _from_db(released_at),
        None if new_network is None else bool(new_network),
    )


def _from_db(value) -> datetime | None:
    """A DateTimeField's value as a cursor returns it (SQLite: text in UTC) as an aware datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def network_of(address: str | None) -> str:
    """The network an address signs in from: its /24 (IPv4) or /64 (IPv6); "" when unknown."""
    ip = parse_address(address)
    if ip is None:
        return ""
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _work_out_new_network(session: sessions.SessionValues) -> bool:
    """Whether the session was opened from a network new for its employee: none of their earlier sign-ins in the
    30 days before it came from its network, and some earlier sign-in came from another network.  Worked out once
    per session, at its first check on a customer route in its first ``new_network_minutes`` (kept in
    SessionNetwork, which ``sql.LOCK_EMPLOYEE`` reads with the lock from then on)."""
    network = network_of(session.ip)
    is_new = False
    if network:
        earlier = (
            Session.objects.filter(employee_id=session.employee_id, created_at__lt=session.created_at)
            .exclude(pk=session.pk)
            .exclude(ip__isnull=True)
            .values("ip")
            .annotate(last=Max("created_at"))
            .order_by()
        )
        recent_same = other = False
        cutoff = session.created_at - NEW_NETWORK_LOOKBACK
        for seen in earlier:
            if network_of(seen["ip"]) == network:
                recent_same = recent_same or seen["last"] >= cutoff
            else:
                other = True
        is_new = other and not recent_same
    SessionNetwork.objects.bulk_create(
        [SessionNetwork(session_id=session.pk, network=network, new_network=is_new)], ignore_conflicts=True
    )
    return is_new


def _contain(
    request: HttpRequest,
    row: _Row,
    session: sessions.SessionValues,
    *,
    customers: int,
    threshold: int,
    limits: Limits,
    new_network: bool,
) -> None:
    """In the check's transaction: set the containment, revoke every session of the employee, audit, alert."""
    employee = Employee.objects.get(pk=session.employee_id)  # (rare: once per containment)
    Containment.objects.filter(employee_id=employee.pk).update(
        contained_at=row.at, customers=customers, max_customers=threshold, window_minutes=limits.window_minutes
    )
    revoked = sessions.revoke(
        Session.objects.filter(employee_id=employee.pk),
        reason=REVOKE_REASON,
        request=request,
        actor_label="gateway",
    )
    detail = {
        "customers": customers,
        "max_customers": threshold,
        "window_minutes": limits.window_minutes,
        "new_network": new_network,
        "host": row.asked.host,
        "customer": row.decision.customer,
        "rule": row.decision.rule,
        "session_id": session.pk,
        "sessions_revoked": revoked,
    }
    audit(Action.GATEWAY_BULK_READ_CONTAINED, request=request, actor_label="gateway", subject=employee, **detail)
    link = settings.SMISHGUARD.origin.rstrip("/") + f"/console/employees/{employee.pk}"
    text = (
        f"Bulk read contained: {employee.name} <{employee.email}> read more than {threshold} distinct customers "
        f"within {limits.window_minutes} minutes{' (a session from a new network)' if new_network else ''}. "
        f"Customer data is refused to them and their {revoked} session(s) were ended, until two admins release "
        f"them (smishguard gateway release {employee.email} --as ADMIN). Find what was read with smishguard "
        f"incident scope --user {employee.email}.\n{link}"
    )
    security_alert(
        "bulk_read_contained",
        f"gateway-contained-{employee.pk}-{row.at.strftime('%Y%m%dT%H%M%S%f')}",
        "Bulk read contained",
        text,
        subject_label=employee.email,
        employee={"id": employee.pk, "email": employee.email, "name": employee.name},
        url=link,
        **detail,
    )


def _address(client: str | None) -> str | None:
    if not client:
        return None
    try:
        return str(ipaddress.ip_address(client))
    except ValueError:
        return None
