"""``smishguard audit export [--since ISO]``: the audit trail as JSON lines."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from smishguard.clitools import CommandError, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the security audit trail")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True
    p = asub.add_parser("export", help="write events as JSON lines, oldest first")
    p.add_argument("--since", metavar="ISO", help="only events at or after this time, e.g. 2026-11-01T00:00:00Z")
    p.add_argument("--action", help="only this action tag, e.g. passkeys:signin:failed")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_export)


def parse_since(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--since must be an ISO 8601 time such as 2026-11-01T00:00:00Z, not {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


@needs_django
def cmd_export(args: argparse.Namespace) -> int:
    from smishguard.audit import Action, record
    from smishguard.audit.models import Event

    qs = Event.objects.order_by("at", "id")
    if args.since:
        qs = qs.filter(at__gte=parse_since(args.since))
    if args.action:
        if args.action not in {a.value for a in Action}:
            raise CommandError(f"unknown action {args.action!r}")
        qs = qs.filter(action=args.action)
    try:
        stream = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror}") from None
    count = 0
    try:
        for event in qs.iterator(chunk_size=2000):
            print_json(event.to_dict(), stream=stream)
            count += 1
    finally:
        if args.out:
            stream.close()
    record(Action.AUDIT_EXPORTED, events=count, since=args.since or "", action_filter=args.action or "")
    if args.out:
        print(f"wrote {count} event(s) to {args.out}", file=sys.stderr)
    return 0
