"""The outbox's protocol (smishguard.outbox.queue): recorded with its key before the call, claimed, marked after;
retried with back-off; reconciled (or, with no reconciler, sent again under the same key) after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from webhook_receiver import WebhookReceiver

from smishguard.outbox import queue, registry
from smishguard.outbox.errors import SendFailed, UnknownKind
from smishguard.outbox.models import Delivery
from smishguard.outbox.webhook import post_webhook
from smishguard.webhooks import backoff


class Crash(Exception):
    """Raised by a sender after its call: nothing of the outbox runs after it, as after kill -9."""


def test_the_key_is_recorded_and_the_delivery_claimed_before_the_call(probe):
    seen: list[tuple[str, int, bool]] = []

    def send(delivery: Delivery) -> str:
        row = Delivery.objects.get(key="probe-1")  # what the database holds while the call is made
        seen.append((row.status, row.attempts, row.attempted_at is not None))
        return "ref-1"

    probe(send=send)
    delivery, created = queue.record("probe", "probe-1", payload={"n": 1})
    assert created
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert DBTaskResult.objects.get(id=delivery.task_id).task_path == "smishguard.outbox.queue.deliver"
    assert seen == []  # recorded and queued, nothing called yet

    assert queue.attempt(delivery.pk) == "delivered"
    assert seen == [("sending", 1, True)]  # claimed (attempt counted) before the call
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_ref, delivery.attempts) == ("delivered", "ref-1", 1)

    again, created = queue.record("probe", "probe-1", payload={"n": 2})  # the same key: nothing new is owed
    assert (again.pk, created, again.payload) == (delivery.pk, False, {"n": 1})
    assert queue.attempt(delivery.pk) == "delivered"  # a duplicate task is a no-op
    assert len(seen) == 1


def test_an_unregistered_kind_is_refused_when_recorded():
    with pytest.raises(UnknownKind):
        queue.record("no-such-kind", "k-1")


def test_a_sender_that_dies_after_its_call_is_sent_again_under_the_same_key(probe):
    """No reconciler (a webhook): after the lease the call is made again with the same Idempotency-Key, which the
    receiver uses to drop the repeat; the delivery is marked once."""
    with WebhookReceiver() as hook:
        crashes = [Crash()]

        def send(delivery: Delivery) -> str:
            reference = post_webhook(delivery, hook.url, {"event": "probe"}, user_agent="smishguard-test")
            if crashes:
                raise crashes.pop()
            return reference

        probe(send=send, lease_seconds=lambda: 60.0)
        delivery, _ = queue.record("probe", "probe-crash")
        with pytest.raises(Crash):
            queue.attempt(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("sending", 1)  # claimed, never marked
        assert queue.attempt(delivery.pk) == "in_flight"  # within the lease a live worker may be in the call
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            assert queue.attempt(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    keys = [headers["Idempotency-Key"] for _, headers in hook.received]
    assert keys == ["smishguard-probe-crash", "smishguard-probe-crash"]  # one key: the receiver keeps one


def test_a_call_in_doubt_is_reconciled_and_not_made_again(probe):
    provider: list[str] = []  # what the provider holds: the call took effect, its answer was lost

    def send(delivery: Delivery) -> str:
        provider.append(delivery.key)
        raise SendFailed("HTTP 503", retry=True, in_doubt=True)

    def reconcile(delivery: Delivery) -> str | None:
        return f"ref-{delivery.key}" if delivery.key in provider else None

    probe(send=send, reconcile=reconcile, lease_seconds=lambda: 30.0)
    delivery, _ = queue.record("probe", "probe-doubt")
    assert queue.attempt(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("sending", "HTTP 503")  # in doubt: not pending
    retry = DBTaskResult.objects.get(id=delivery.task_id)
    assert retry.run_after == delivery.next_attempt_at
    assert delivery.next_attempt_at >= delivery.attempted_at + timedelta(seconds=30)  # after the lease
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert queue.attempt(delivery.pk) == "reconciled"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_ref, delivery.attempts) == ("delivered", "ref-probe-doubt", 1)
    assert provider == ["probe-doubt"]  # called once


def test_a_reconcile_that_finds_nothing_sends_again(probe):
    calls: list[int] = []

    def send(delivery: Delivery) -> str:
        calls.append(delivery.attempts)
        if len(calls) == 1:
            raise Crash
        return "ref"

    probe(send=send, reconcile=lambda _delivery: None, lease_seconds=lambda: 30.0)
    delivery, _ = queue.record("probe", "probe-lost")
    with pytest.raises(Crash):
        queue.attempt(delivery.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert queue.attempt(delivery.pk) == "delivered"
    assert calls == [1, 2]


def test_retries_back_off_5_10_20_seconds_and_then_give_up(probe):
    def send(delivery: Delivery) -> str:
        raise SendFailed("HTTP 500", retry=True)

    probe(send=send, max_attempts=lambda: 4)
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        delivery, _ = queue.record("probe", "probe-backoff")
        waits = []
        for _ in range(3):
            assert queue.attempt(delivery.pk) == "retry"
            delivery.refresh_from_db()
            assert delivery.status == "pending"
            assert DBTaskResult.objects.get(id=delivery.task_id).run_after == delivery.next_attempt_at
            waits.append(delivery.next_attempt_at - timezone.now())
        assert waits == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
        assert queue.attempt(delivery.pk) == "failed"  # the fourth of four attempts
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 4, "HTTP 500")
    assert [int(backoff(n)) for n in (1, 2, 3, 4, 7, 8, 30)] == [5, 10, 20, 40, 320, 600, 600]


def test_a_failure_that_cannot_help_is_not_retried(probe):
    changes: list[str] = []

    def send(delivery: Delivery) -> str:
        raise SendFailed("HTTP 400", retry=False)

    probe(send=send, on_change=lambda _delivery, change, _error: changes.append(change))
    delivery, _ = queue.record("probe", "probe-400")
    assert queue.attempt(delivery.pk) == "failed"
    assert changes == [registry.CLAIMED, registry.FAILED]


def test_recovery_gives_a_lost_task_back_and_leaves_a_live_one(probe):
    probe(send=lambda _delivery: "ref", lease_seconds=lambda: 60.0)
    lost, _ = queue.record("probe", "probe-lost-task")
    live, _ = queue.record("probe", "probe-live-task")
    # A worker took both tasks; the one that took `lost` was killed -9 ten minutes ago (its row stays RUNNING).
    DBTaskResult.objects.filter(id=lost.task_id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=10)
    )
    DBTaskResult.objects.filter(id=live.task_id).update(status="RUNNING", started_at=timezone.now())
    report = queue.recover()
    assert (report.checked, report.requeued) == (2, 1)
    lost.refresh_from_db()
    assert DBTaskResult.objects.get(id=lost.task_id).status == "READY"
    assert queue.recover().requeued == 0  # its new task is ready: nothing more to do
