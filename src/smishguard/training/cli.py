"""``smishguard training ...``: assign modules, and who is current, due soon or overdue.

- ``smishguard training assign MODULE --group G|--department D|--all --due YYYY-MM-DD``: assign the module (its
  slug) to the active employees of exactly one target, due at the end of that day in ``[training]
  default_time_zone``; prints how many were assigned (an open assignment due earlier is kept as it is).
- ``smishguard training status [--overdue] [--json]``: one line per active employee and module (docs/training.md,
  "Assignments, compliance and the gateway", gives the JSON document).
- ``smishguard training xapi [--simulation ID] [--since ISO]``: xAPI statements as JSON lines, for a learning record
  store (quiz attempts and drill steps; docs/training.md, "xAPI"); recorded in the audit trail.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from smishguard.clitools import CommandError, iso_time, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    training = sub.add_parser("training", help="awareness training: assign modules, who is current or overdue")
    tsub = training.add_subparsers(dest="training_command", metavar="ACTION")
    tsub.required = True

    p = tsub.add_parser(
        "assign",
        help="assign a module to a group, a department or every active employee, with a due date",
        description="Assign the module MODULE (its slug) to the active employees of one target, due at the end of "
        "the day DUE in [training] default_time_zone.  Each assignment is audited; an employee who already has "
        "it open with an earlier due date, or is current on it, keeps what they have.",
    )
    p.add_argument("module", metavar="MODULE", help="the module's slug")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--group", metavar="G", help="the members of this group")
    target.add_argument("--department", metavar="D", help="the employees of this department")
    target.add_argument("--all", action="store_true", dest="everyone", help="every active employee")
    p.add_argument("--due", required=True, metavar="YYYY-MM-DD", help="the due date (today or later)")
    p.add_argument("--json", action="store_true", help='print {"module", "targeted", "assigned", "due"}')
    p.set_defaults(func=cmd_assign)

    p = tsub.add_parser(
        "status",
        help="each active employee's state per module: current, assigned, due soon, overdue, not assigned",
        description="One line per active employee and module (not archived): the state, the due date, and the "
        "completion record (when, score, attempts up to the pass, time taken).",
    )
    p.add_argument("--overdue", action="store_true", help="only the overdue")
    p.add_argument("--json", action="store_true", help="one JSON document (docs/training.md)")
    p.set_defaults(func=cmd_status)

    p = tsub.add_parser(
        "xapi",
        help="xAPI statements (JSON lines) for a learning record store: quiz attempts and drill steps",
        description="Every quiz attempt (passed or failed, with its score) and every step an employee took in a "
        "simulation (clicked, submitted, reported) as xAPI 1.0.3 statements, one JSON line each.  Statement ids are "
        "stable: sending the same lines twice does not count twice.",
    )
    p.add_argument("--simulation", type=int, metavar="ID", help="only this simulation's steps")
    p.add_argument("--since", metavar="ISO", help="only what happened after this time (e.g. 2026-03-01)")
    p.set_defaults(func=cmd_xapi)


@needs_django
def cmd_assign(args: argparse.Namespace) -> int:
    from smishguard.audit.recorder import cli_actor
    from smishguard.training import compliance

    module = compliance.module_by_slug(args.module)
    due_at = compliance.parse_due(args.due)
    people = compliance.target_employees(group=args.group, department=args.department, everyone=args.everyone)
    result = compliance.assign_to(module, people, due_at=due_at, assigned_by=cli_actor())
    if args.json:
        print_json(result.as_dict())
        return 0
    target = f"group {args.group}" if args.group else f"department {args.department}" if args.department else "all"
    print(
        f"assigned {module.slug} to {result.assigned} employee(s) of {result.targeted} ({target}), "
        f"due {args.due} ({due_at.isoformat()})"
    )
    return 0


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "-"


@needs_django
def cmd_status(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from smishguard.training import compliance

    now = timezone.now()
    rows = compliance.status(now=now, states=[compliance.State.OVERDUE] if args.overdue else None)
    if args.json:
        counts = {str(state): 0 for state in compliance.State}
        for row in rows:
            counts[str(row.state)] += 1
        print_json({"generated_at": now.isoformat(), "counts": counts, "assignments": [r.as_dict() for r in rows]})
        return 0
    if not rows:
        print("nobody is overdue" if args.overdue else "no active employees or no training modules yet")
        return 0
    header = ("EMAIL", "MODULE", "STATE", "DUE", "COMPLETED", "SCORE", "ATTEMPTS", "TIME")
    lines = [
        (
            r.email,
            r.module,
            str(r.state),
            _day(r.due),
            _day(r.completed),
            f"{r.score}%" if r.score is not None else "-",
            str(r.attempts) if r.attempts is not None else "-",
            r.taken,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0


@needs_django
def cmd_xapi(args: argparse.Namespace) -> int:
    from smishguard.audit import Action, record
    from smishguard.audit.recorder import cli_actor
    from smishguard.training import xapi
    from smishguard.training.models import Simulation

    since = iso_time(args.since, "--since") if args.since else None
    simulation = None
    if args.simulation is not None:
        simulation = Simulation.objects.filter(pk=args.simulation).first()
        if simulation is None:
            raise CommandError(f"no simulation {args.simulation}")
    count = 0
    for statement in xapi.statements(simulation=simulation, since=since):
        print_json(statement)
        count += 1
    record(
        Action.SIMULATION_RESULTS_EXPORTED,
        actor_label=cli_actor(),
        what="xapi",
        format="jsonl",
        simulation=args.simulation,
        since=since.isoformat() if since else None,
        statements=count,
    )
    return 0
