"""``smishguard worker``: run the background tasks (SMS sending and the rest) from the database queue."""

from __future__ import annotations

import argparse
import sys

from smishguard.clitools import CommandError, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker",
        help="run background tasks (SMS sends, broadcasts, ...) from the database queue",
        description="Run django-tasks' database worker, with smishguard's recovery pass: at start and "
        "periodically, sends that a crashed worker left unfinished are reconciled with Twilio and finished. "
        "Several workers may run side by side. Stop with Ctrl-C or SIGTERM (the task in hand finishes first).",
    )
    p.add_argument("--interval", type=float, default=1.0, help="seconds to wait when no task is ready (default 1)")
    p.add_argument(
        "--until-idle",
        action="store_true",
        help="exit once no message is queued or being sent (for scripts and cron)",
    )
    p.add_argument("--timeout", type=float, default=None, help="exit after this many seconds in any case")
    p.add_argument("--queue", default="*", help="comma-separated queue names to run (default '*': every queue)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on exit")
    p.set_defaults(func=cmd_worker)


@needs_django
def cmd_worker(args: argparse.Namespace) -> int:
    if args.interval < 0 or (args.timeout is not None and args.timeout <= 0):
        raise CommandError("--interval must be 0 or more and --timeout more than 0")
    from smishguard.messaging import worker

    ran = worker.run(
        interval=args.interval,
        until_idle=args.until_idle,
        timeout=args.timeout,
        queue_names=tuple(q.strip() for q in args.queue.split(",") if q.strip()) or ("*",),
    )
    left = worker.unfinished()
    waiting = worker.waiting()
    if args.json:
        summary = {"tasks_run": ran, "messages_unfinished": left}
        if waiting:  # added only when there are some: the usual shape stays as it was
            summary["messages_waiting_for_twilio"] = waiting
        print_json(summary)
    else:  # said on exit, never silent
        print(f"ran {ran} task{'' if ran == 1 else 's'}" if ran else "no tasks waiting")
        if left:
            print(f"{left} message(s) still queued or being sent", file=sys.stderr)
        if waiting:
            print(
                f"{waiting} message(s) waiting for a Twilio account: they are sent once one is configured "
                "(SMISHGUARD_TWILIO_*, see docs/messaging.md)",
                file=sys.stderr,
            )
    return 1 if args.until_idle and left else 0
