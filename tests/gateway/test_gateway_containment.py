"""Issue 14, containment: one employee admitted to more than N distinct customers (host + id) within T minutes is
refused at the (N+1)th with 403 ``bulk_read_contained``; in the same transaction every session of theirs is revoked,
the event audited and the security team's alert owed (delivered by the worker); customer data stays refused to them,
after a new sign-in too, until two different admins (neither of them the employee) release them.  The threshold is
lowered in the first minutes of a session from a new network, and set per group.  Both modes (the test client and
the test database; the real-concurrency test is in test_gateway_containment_concurrency.py)."""

from __future__ import annotations

import dataclasses
import secrets
import tomllib
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from gateway_checks import ask, signed_in, use_policy
from page_fixtures import login  # noqa: F401 - the shared pytest fixture: a test client signed in as someone
from twilio_fixtures import work  # noqa: F401 - the shared pytest fixture: the real worker, in this process
from webhook_receiver import WebhookReceiver

from smishguard.accounts import services
from smishguard.accounts.errors import FourEyesRequired
from smishguard.accounts.models import Employee, RecoveryRequest, Session
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.config import ConfigError
from smishguard.errors import PermissionDenied
from smishguard.gateway import containment, loading, rules
from smishguard.gateway.models import AccessRecord, Containment, SessionNetwork
from smishguard.outbox.models import Delivery
from smishguard.passkeys.models import Credential

MONTH = timedelta(days=30)

POLICY = """
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[gateway.containment]
max_customers = 3
window_minutes = 10
new_network_max_customers = 2
new_network_minutes = 60

[gateway.containment.groups.bulk]
max_customers = 6

[gateway.containment.groups.tight]
max_customers = 1
window_minutes = 30

[[gateway.rules]]
domain = ["a.example.com", "b.example.com"]
resources = ["^/customers/(?P<customer>[^/]+)"]
subject = ["group:support"]
policy = "signed_in"

[[gateway.rules]]
domain = "a.example.com"
resources = ["^/reports"]
policy = "signed_in"
"""


@pytest.fixture(autouse=True)
def gateway(settings, db):
    for name in ("bulk", "tight"):  # the groups the containment tables name exist (loading.check_groups)
        services.add_employee(email=f"{name}-member@example.com", name=name.title(), groups=[name])
    use_policy(settings, POLICY)


def read(client: Client, customer: str, host: str = "a.example.com"):
    return ask(client, f"https://{host}/customers/{customer}/profile")


def statuses(client: Client, customers: list[str], host: str = "a.example.com") -> list[int]:
    return [read(client, customer, host).status_code for customer in customers]


def admin(email: str) -> Employee:
    """An admin for a month, with a key as old: eligible to approve four-eyes requests."""
    with time_machine.travel(timezone.now() - MONTH, tick=False):
        person = services.add_employee(email=email, name=email.split("@", maxsplit=1)[0].title(), is_admin=True)
        Credential.objects.create(
            employee=person, credential_id=secrets.token_bytes(32), public_key=b"k", created_at=timezone.now()
        )
    return person


def test_the_read_that_crosses_the_line_is_refused_and_every_session_revoked(bob, settings, work):  # noqa: F811
    with WebhookReceiver() as hook:
        settings.SMISHGUARD = dataclasses.replace(
            settings.SMISHGUARD, response=dataclasses.replace(settings.SMISHGUARD.response, alert_webhook=hook.url)
        )
        client, session = signed_in(bob)
        _, other_session = signed_in(bob)  # another of Bob's sessions, elsewhere
        # 1, 2, 1 again (a repeat does not count), 1 on another host (counts: 3), 2 again: all admitted.
        assert statuses(client, ["1", "2", "1"]) == [200, 200, 200]
        assert read(client, "1", host="b.example.com").status_code == 200
        assert read(client, "2").status_code == 200
        crossing = read(client, "3")  # the 4th distinct customer, with max_customers = 3
        assert crossing.status_code == 403
        assert crossing["X-Smishguard-Reason"] == "bulk_read_contained"
        assert "Remote-User" not in crossing
        last = AccessRecord.objects.order_by("-id").first()
        assert (last.customer, last.decision, last.reason) == ("3", "deny", "bulk_read_contained")
        assert AccessRecord.objects.filter(decision="allow").count() == 5
        # Every session revoked, in the same transaction, audited.
        assert set(Session.objects.filter(employee=bob).values_list("revoked_at", flat=True)) != {None}
        assert not Session.objects.filter(employee=bob, revoked_at__isnull=True).exists()
        assert {s.revoke_reason for s in Session.objects.filter(pk__in=[session.pk, other_session.pk])} == {
            "bulk read contained"
        }
        revoked = Event.objects.get(action=Action.SESSION_REVOKED, subject=bob)
        assert revoked.detail["sessions"] == 2
        contained = Event.objects.get(action=Action.GATEWAY_BULK_READ_CONTAINED)
        assert contained.subject_id == bob.pk
        assert (contained.detail["customers"], contained.detail["max_customers"]) == (4, 3)
        assert (contained.detail["customer"], contained.detail["sessions_revoked"]) == ("3", 2)
        state = Containment.objects.get(employee=bob)
        assert state.contained_at is not None
        # The session is gone: the very next check asks to sign in.
        assert read(client, "1").status_code == 401
        # The alert, through the outbox: recorded in the transaction, delivered by the worker, audited.
        delivery = Delivery.objects.get(kind="security-alert")
        work()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    [(body, _headers)] = hook.received
    assert body["event"] == "bulk_read_contained"
    assert "Bob Builder <bob@example.com>" in body["text"]
    assert body["employee"]["email"] == "bob@example.com"
    assert body["customers"] == 4
    assert Event.objects.filter(action=Action.SECURITY_ALERT_SENT, subject_label="bob@example.com").exists()


def test_customer_data_stays_refused_after_a_new_sign_in_until_released_by_two_admins(bob, capsys):
    client, _ = signed_in(bob)
    assert statuses(client, ["1", "2", "3", "4"]) == [200, 200, 200, 403]
    fresh, _ = signed_in(bob)  # a new sign-in
    refused = read(fresh, "1")  # even a customer read before
    assert (refused.status_code, refused["X-Smishguard-Reason"]) == (403, "bulk_read_contained")
    assert read(fresh, "9", host="b.example.com").status_code == 403
    # Not customer data: still open to them.
    assert ask(fresh, "https://a.example.com/reports").status_code == 200
    last = AccessRecord.objects.order_by("-id").first()
    assert (last.decision, last.reason, last.customer) == ("deny", "bulk_read_contained", "9")

    ada, sam = admin("ada@example.com"), admin("sam@example.com")
    bob.is_admin = True  # even an admin may not ask for their own release
    bob.save(update_fields=["is_admin"])
    with pytest.raises(PermissionDenied):
        containment.request_release(bob, actor=bob)
    assert main(["gateway", "release", "bob@example.com", "--as", "bob@example.com"]) == 2
    assert "cannot ask for their own release" in capsys.readouterr().err

    assert main(["gateway", "release", "bob@example.com", "--as", "ada@example.com"]) == 0
    out = capsys.readouterr().out
    rec = RecoveryRequest.objects.get(kind=containment.RELEASE_KIND)
    assert f"release request #{rec.pk} for bob@example.com is open" in out
    assert f"smishguard employees approve {rec.pk} --as" in out
    requested = Event.objects.get(action=Action.GATEWAY_RELEASE_REQUESTED)
    assert (requested.actor_label, requested.subject_id) == ("ada@example.com", bob.pk)
    assert read(fresh, "1").status_code == 403  # asked for, not yet approved

    # Neither the admin who asked nor the employee may approve.
    for who in (ada, bob):
        with pytest.raises(FourEyesRequired):
            services.approve(rec.pk, approver=who)
    assert read(fresh, "1").status_code == 403
    assert main(["employees", "approve", str(rec.pk), "--as", sam.email]) == 0
    assert "bob@example.com is released" in capsys.readouterr().out
    released = Event.objects.get(action=Action.GATEWAY_CONTAINMENT_RELEASED)
    assert (released.actor_label, released.detail["requested_by"]) == ("sam@example.com", "ada@example.com")
    assert Event.objects.filter(action=Action.REQUEST_APPROVED, detail__kind=containment.RELEASE_KIND).exists()
    state = Containment.objects.get(employee=bob)
    assert (state.contained_at, state.released_by) == (None, "ada@example.com, approved by sam@example.com")
    # The count starts afresh at the release: three more distinct customers within the same window are fine.
    assert statuses(fresh, ["1", "5", "6", "7"]) == [200, 200, 200, 403]


def test_release_is_refused_for_an_employee_who_is_not_contained_and_for_a_non_admin(bob, capsys):
    ada = admin("ada@example.com")
    assert main(["gateway", "release", "bob@example.com", "--as", ada.email]) == 2
    assert "bob@example.com is not contained" in capsys.readouterr().err
    assert main(["gateway", "release", "bob@example.com", "--as", "bulk-member@example.com"]) == 2
    assert "is not an active admin" in capsys.readouterr().err
    assert main(["gateway", "release", "nobody@example.com", "--as", ada.email]) == 2
    assert "no employee" in capsys.readouterr().err
    assert not RecoveryRequest.objects.exists()


def test_the_console_shows_the_containment_and_opens_the_release(bob, login):  # noqa: F811
    client, _ = signed_in(bob)
    assert statuses(client, ["1", "2", "3", "4"])[-1] == 403
    ada = admin("ada@example.com")
    console = login(ada)
    page = console.get(f"/console/employees/{bob.pk}")
    assert page.status_code == 200
    assert b"Customer data is refused to Bob Builder" in page.content
    assert b"Ask to release (needs a second admin)" in page.content
    response = console.post(f"/console/gateway/release/{bob.pk}", HTTP_ORIGIN=django_settings.SMISHGUARD.origin)
    assert response.status_code == 302
    rec = RecoveryRequest.objects.get(kind=containment.RELEASE_KIND, status=RecoveryRequest.Status.PENDING)
    assert rec.requested_by == ada
    page = console.get(f"/console/employees/{bob.pk}")
    assert f"Release #{rec.pk} was asked for by ada@example.com".encode() in page.content
    queue = console.get("/console/recovery")
    assert b"Release from containment (bulk read)" in queue.content
    assert b"Your request: awaiting another admin" in queue.content
    second = login(admin("sam@example.com"))
    queue = second.get("/console/recovery")
    assert b"Approve the release" in queue.content
    approved = second.post(
        reverse("accounts:console-recovery-approve", args=[rec.pk]), HTTP_ORIGIN=django_settings.SMISHGUARD.origin
    )
    assert approved.status_code == 302
    assert Containment.objects.get(employee=bob).contained_at is None
    page = second.get(approved["Location"])
    assert b"bob@example.com is released" in page.content
    assert b"Customer data is refused" not in page.content


def test_reads_older_than_the_window_do_not_count(bob):
    client, _ = signed_in(bob)
    assert statuses(client, ["1", "2", "3"]) == [200, 200, 200]
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        Session.objects.filter(employee=bob).update(last_seen_at=timezone.now())
        assert statuses(client, ["4", "5", "6"]) == [200, 200, 200]
        assert read(client, "7").status_code == 403


def test_refused_reads_do_not_count(bob):
    client, _ = signed_in(bob)
    with_group = read(client, "1")
    assert with_group.status_code == 200
    carol = services.add_employee(email="carol@example.com", name="Carol", groups=["support"])
    carol_client, _ = signed_in(carol)
    Session.objects.filter(employee=carol).update(revoked_at=timezone.now())
    for customer in ["2", "3", "4", "5"]:
        assert read(carol_client, customer).status_code == 401  # signed out: recorded, not counted
    assert statuses(client, ["2", "3"]) == [200, 200]


def test_a_session_from_a_known_network_keeps_the_threshold(bob):
    signed_in(bob, ip="10.1.1.5", created_ago=timedelta(days=3))  # Bob's usual network
    office, _ = signed_in(bob, ip="10.1.1.77")  # the same /24: not new
    assert statuses(office, ["1", "2", "3", "4"]) == [200, 200, 200, 403]


def test_a_new_network_lowers_it_and_not_after_its_minutes(bob):
    signed_in(bob, ip="10.1.1.5", created_ago=timedelta(days=3))
    away, _ = signed_in(bob, ip="192.0.2.10")  # a network not seen in 30 days, by someone seen elsewhere
    assert statuses(away, ["1", "2", "3"]) == [200, 200, 403]
    contained = Event.objects.get(action=Action.GATEWAY_BULK_READ_CONTAINED)
    assert (contained.detail["max_customers"], contained.detail["new_network"]) == (2, True)


def test_the_lowering_lasts_the_sessions_first_minutes_only(bob):
    signed_in(bob, ip="10.1.1.5", created_ago=timedelta(days=3))
    later, _ = signed_in(bob, ip="192.0.2.10", created_ago=timedelta(minutes=61))
    assert statuses(later, ["1", "2", "3", "4"]) == [200, 200, 200, 403]


def test_a_first_ever_sign_in_or_a_network_seen_long_ago_is_not_lowered(bob):
    first, _ = signed_in(bob, ip="192.0.2.10")  # nothing before it
    assert statuses(first, ["1", "2", "3"]) == [200, 200, 200]
    dana = services.add_employee(email="dana@example.com", name="Dana", groups=["support"])
    signed_in(dana, ip="10.9.9.9", created_ago=timedelta(days=90))  # her old office, 90 days ago
    signed_in(dana, ip="198.51.100.4", created_ago=timedelta(days=2))  # her home since
    back, _ = signed_in(dana, ip="10.9.9.20")  # the old office again: not seen in 30 days, seen elsewhere
    assert statuses(back, ["1", "2", "3"]) == [200, 200, 403]
    erin = services.add_employee(email="erin@example.com", name="Erin", groups=["support"])
    signed_in(erin, ip="2001:db8:1:2::5", created_ago=timedelta(days=1))
    same64, _ = signed_in(erin, ip="2001:db8:1:2:ffff::9")  # the same /64
    assert statuses(same64, ["1", "2", "3"]) == [200, 200, 200]


def test_the_lowest_threshold_of_the_employees_groups_applies(bob):
    wide = services.add_employee(email="wide@example.com", name="Wide", groups=["support", "bulk"])
    client, _ = signed_in(wide)
    assert statuses(client, [str(n) for n in range(1, 8)]) == [200] * 6 + [403]  # bulk: 6, above the default 3
    both = services.add_employee(email="both@example.com", name="Both", groups=["support", "bulk", "tight"])
    client, _ = signed_in(both)
    assert statuses(client, ["1", "2"]) == [200, 403]  # tight: 1, the lowest
    state = Containment.objects.get(employee=both)
    assert (state.max_customers, state.window_minutes) == (1, 30)
    client, _ = signed_in(bob)  # no group with a table: the defaults
    assert statuses(client, ["1", "2", "3", "4"]) == [200, 200, 200, 403]


def test_group_thresholds_inherit_what_they_leave_out():
    policy = rules.parse(tomllib.loads(POLICY)).containment
    assert policy.default == rules.Limits(3, 10, 2, 60)
    assert dict(policy.groups) == {"bulk": rules.Limits(6, 10, 2, 60), "tight": rules.Limits(1, 30, 2, 60)}
    assert rules.parse({}).containment.default == rules.Limits(20, 10, 5, 60)  # the defaults of the issue


BAD = [
    pytest.param({"limit": 3}, "[gateway.containment]: unknown key(s): limit", id="unknown-key"),
    pytest.param({"max_customers": "3"}, "max_customers must be a whole number >= 1, not '3'", id="string"),
    pytest.param({"window_minutes": 0}, "window_minutes must be a whole number >= 1, not 0", id="zero"),
    pytest.param({"new_network_minutes": True}, "new_network_minutes must be a whole number", id="bool"),
    pytest.param({"groups": {"x": {"max": 1}}}, "[gateway.containment.groups.x]: unknown key(s): max", id="group-key"),
    pytest.param(
        {"groups": {"x": {"max_customers": 1.5}}}, "[gateway.containment.groups.x]: max_customers", id="group-type"
    ),
    pytest.param({"groups": {"x": 3}}, "groups must be tables", id="group-not-table"),
    pytest.param([], "[gateway.containment] must be a table", id="not-a-table"),
]


@pytest.mark.parametrize(("table", "message"), BAD)
def test_a_bad_containment_table_is_one_readable_error(table, message):
    with pytest.raises(ConfigError) as caught:
        rules.parse({"gateway": {"containment": table}})
    assert message in str(caught.value)


def test_a_group_that_does_not_exist_is_refused_where_the_policy_meets_the_database(bob, settings, capsys):
    raw = tomllib.loads(POLICY.replace("groups.tight]", "groups.nosuch]"))
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=raw)
    with pytest.raises(ConfigError, match=r"\[gateway.containment.groups.nosuch\]: no such group: nosuch"):
        loading.check_groups(rules.current())
    assert main(["gateway", "check", "--user", "bulk-member@example.com", "https://a.example.com/reports"]) == 2
    assert "no such group: nosuch" in capsys.readouterr().err


def test_the_new_network_is_worked_out_once_per_session_not_on_every_check(bob):
    signed_in(bob, ip="10.1.1.5", created_ago=timedelta(days=3))
    away, session = signed_in(bob, ip="192.0.2.10")
    assert read(away, "1").status_code == 200
    assert SessionNetwork.objects.get(session=session).new_network is True
    with CaptureQueriesContext(connection) as queries:
        assert read(away, "1").status_code == 200
    statements = [q["sql"] for q in queries]
    assert not [s for s in statements if "GROUP BY" in s.upper()]  # the earlier sessions are not read again
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2  # the access row, and the customer's CustomerRead row (an upsert)
    assert sum("ON CONFLICT" in s for s in inserts) == 1
