"""``smishguard siem status [--json]``: where each SIEM stream stands in the audit trail."""

from __future__ import annotations

import argparse

from smishguard.clitools import needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    siem = sub.add_parser("siem", help="the audit trail's streams to the SIEM (syslog, HTTP)")
    ssub = siem.add_subparsers(dest="siem_command", metavar="ACTION")
    ssub.required = True
    p = ssub.add_parser(
        "status",
        help="each stream's position, backlog, lag and the batch in flight",
        description="Each [[siem.streams]] of smishguard.toml: the last audit id it delivered, how many events "
        "wait after it and how old the oldest is, and the batch being delivered (attempts, last error).  "
        "Exit status 1 when a stream is further behind than [siem] lag_warning_seconds.",
    )
    p.add_argument("--json", action="store_true", help="one JSON object a stream, one a line")
    p.set_defaults(func=cmd_status)


@needs_django
def cmd_status(args: argparse.Namespace) -> int:
    from smishguard.siem.streaming import status

    streams = status()
    if args.json:
        for stream in streams:
            print_json(stream.to_dict())
        return 1 if any(s.behind for s in streams) else 0
    if not streams:
        print("no SIEM streams: add [[siem.streams]] to smishguard.toml (docs/deploy.md)")
        return 0
    for s in streams:
        lag = "up to date" if s.lag_seconds is None else f"oldest waiting {s.lag_seconds:.0f} s"
        flag = "  BEHIND" if s.behind else ""
        print(f"{s.name} ({s.kind} to {s.target}){flag}")
        print(f"  position {s.position} of {s.newest}: {s.backlog} event(s) waiting, {lag}")
        print(f"  delivered {s.delivered} event(s) ({s.late} late), last at {s.delivered_at or 'never'}")
        if s.watching:
            print(f"  watching {s.watching} skipped id(s) for a late commit")
        if s.batch is not None:
            b = s.batch
            line = f"  batch of {b['events']}: {b['status']}, {b['attempts']} attempt(s)"
            if b["last_error"]:
                line += f", last error: {b['last_error']}"
            if b["next_attempt_at"]:
                line += f", next at {b['next_attempt_at']}"
            print(line)
    return 1 if any(s.behind for s in streams) else 0
