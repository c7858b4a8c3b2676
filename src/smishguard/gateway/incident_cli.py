"""``smishguard incident scope``: every customer these accounts read in a period (docs/gateway.md, "Breach scope")."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from smishguard.clitools import CommandError, needs_django


def register(sub: argparse._SubParsersAction) -> None:
    incident = sub.add_parser("incident", help="after an incident: what the accounts concerned read")
    isub = incident.add_subparsers(dest="incident_command", metavar="ACTION")
    isub.required = True
    p = isub.add_parser(
        "scope",
        help="every customer these accounts read in a period (from the gateway's access record)",
        description="List every customer (host + id) that the accounts --user read through the gateway, admitted "
        "reads only, from --since (inclusive) to --until (exclusive; default now), with the attempts the gateway "
        "refused counted apart.  Times are ISO 8601 (2026-11-01, 2026-11-01T09:30:00Z); without an offset they are "
        "UTC.  --drafts DIR writes one notification draft per customer read, from [incident] draft_template of "
        "smishguard.toml.  Exit status 2, with nothing written, for an unknown employee, a bad time, a period "
        "that ends before it starts, or a file or folder that cannot be written.  The run is audited.",
    )
    p.add_argument("--user", metavar="EMAIL", action="append", required=True, help="an account (repeat for more)")
    p.add_argument("--since", metavar="ISO", required=True, help="start of the period (inclusive)")
    p.add_argument("--until", metavar="ISO", help="end of the period (exclusive; default: now)")
    p.add_argument("--format", choices=("json", "csv", "html"), default="json", help="the report's format (json)")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE (replaced whole) instead of stdout")
    p.add_argument("--drafts", metavar="DIR", help="write one notification draft per customer read into DIR")
    p.set_defaults(func=cmd_scope)


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.is_dir():
        raise CommandError(f"--out {out}: is a folder")
    parent = path.parent
    if not parent.is_dir():
        raise CommandError(f"--out {out}: its folder does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"--out {out}: cannot write there")
    return path


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to a new file beside ``path`` and rename it over ``path``: never a half-written report."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise CommandError(f"--out {path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CommandError(f"--out {path}: cannot write ({exc.strerror})") from None


@needs_django
def cmd_scope(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.utils import timezone

    from smishguard.audit import Action, record
    from smishguard.gateway import drafts, scope, scope_report

    now = timezone.now()
    since = scope.parse_time(args.since, name="--since")
    until = scope.parse_time(args.until, name="--until") if args.until else now
    scope.check_period(since, until)
    people = scope.employees(args.user)
    out = _check_out(args.out) if args.out else None
    folder = drafts.check_target(args.drafts) if args.drafts else None
    organisation = settings.SMISHGUARD.rp_name

    result = scope.scope(people, since, until)
    timeline = scope.timeline(people, since, until) if args.format == "html" else None
    text = scope_report.render(result, args.format, timeline=timeline, generated=now, organisation=organisation)
    notes = drafts.render(result, organisation) if folder is not None else []

    record(
        Action.INCIDENT_SCOPE_REPORTED,
        users=list(result.users),
        since=scope.iso(since),
        until=scope.iso(until),
        format=args.format,
        customers=result.total_customers,
        reads=result.total_reads,
        refused=result.refused_total,
        drafts=len(notes),
    )
    if folder is not None:
        written = drafts.write(folder, notes)
        print(f"wrote {written} draft(s) to {folder}", file=sys.stderr)
    if out is not None:
        _write_whole(out, text)
        print(
            f"{result.total_customers} customer(s), {result.total_reads} read(s), {result.refused_total} refused: "
            f"wrote {out}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0
