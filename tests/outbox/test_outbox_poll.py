"""A kind that finds its own work (the SIEM streams) has its ``poll`` run on every pass of the worker's loop."""

from __future__ import annotations

from twilio_fixtures import keeping_the_test_connection

from smishguard.outbox import queue, worker
from smishguard.outbox.models import Delivery


def test_the_worker_runs_each_kind_s_poll_and_delivers_what_it_records(probe):
    sent: list[str] = []
    owed = ["a", "b", "c"]

    def poll() -> int:
        if not owed or queue.unfinished("probe"):
            return 0
        queue.record("probe", f"poll-{owed.pop(0)}")
        return 1

    probe(send=lambda delivery: sent.append(delivery.key) or "ok", poll=poll)
    with keeping_the_test_connection():
        worker.run(
            interval=0.02,
            until_idle=True,
            unfinished=lambda: len(owed) + queue.unfinished("probe"),
            timeout=60,
            handle_signals=False,
            recovery_every=1,
        )
    assert sent == ["poll-a", "poll-b", "poll-c"]
    assert set(Delivery.objects.filter(kind="probe").values_list("status", flat=True)) == {"delivered"}
