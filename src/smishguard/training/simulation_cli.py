"""``smishguard simulations ...``: create, list, launch, pause, resume, cancel, links, results (docs/training.md,
"Simulations").  Bad input is one clear line and a non-zero exit status."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from smishguard.clitools import CommandError, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("simulations", help="SMS phishing simulations (drills) to enrolled employees")
    ssub = sim.add_subparsers(dest="simulations_command", metavar="ACTION")
    ssub.required = True

    p = ssub.add_parser(
        "create",
        help="make a draft simulation from a template file or a real campaign",
        description="Make a draft simulation to the members of --group who are in the simulation programme. "
        "--template FILE is the text with {first_name}, {company} and {link} (no other placeholder, no other "
        "link); --from-campaign ID keeps a reported campaign's brand and wording, every link replaced by {link}. "
        "--window HH:MM-HH:MM sends only inside that window, in each recipient's own time zone.",
    )
    p.add_argument("name")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--template", metavar="FILE", help="the text (a file; - for standard input)")
    text.add_argument("--from-campaign", metavar="ID", type=int, help="a campaign of the reports app")
    p.add_argument("--group", required=True, metavar="G", help="the group whose enrolled members get it")
    p.add_argument("--window", metavar="HH:MM-HH:MM", help="the send window in each recipient's time zone")
    p.add_argument("--json", action="store_true", help='print {"id", "name", "status", ...}')
    p.set_defaults(func=cmd_create)

    p = ssub.add_parser("list", help="list simulations")
    p.add_argument("--json", action="store_true", help="a JSON array")
    p.set_defaults(func=cmd_list)

    for name, helptext, func in (
        ("launch", "launch a draft (above [training] approval_threshold people: a second admin approves)", "launch"),
        ("pause", "stop further sends", "pause"),
        ("resume", "go on sending a paused simulation", "resume"),
        ("cancel", "end it; the unsent recipients are skipped", "cancel"),
    ):
        p = ssub.add_parser(name, help=helptext)
        p.add_argument("simulation_id", metavar="ID")
        p.add_argument(
            "--as", dest="as_admin", metavar="ADMIN_EMAIL", help="the admin doing it (needed to ask for an approval)"
        )
        p.add_argument("--json", action="store_true", help='print {"id", "status", ...}')
        p.set_defaults(func=cmd_change, change=func)

    p = ssub.add_parser("links", help="each recipient's email and tracked link (for a pilot; audited)")
    p.add_argument("simulation_id", metavar="ID")
    p.add_argument("--json", action="store_true", help='a JSON array of {"email", "link"}')
    p.set_defaults(func=cmd_links)

    p = ssub.add_parser("results", help="the funnel and each recipient's events")
    p.add_argument("simulation_id", metavar="ID")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help='{"id","name","status","recipients":[...],"funnel":{...}}')
    fmt.add_argument("--csv", action="store_true", help="one row per recipient: email and each event's time")
    p.set_defaults(func=cmd_results)


def _read_template(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"--template {name}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"--template {name}: is a folder") from None
    except UnicodeDecodeError:
        raise CommandError(f"--template {name}: not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"--template {name}: cannot read it ({exc.strerror})") from None


def _admin(email: str | None):
    if not email:
        return None
    from smishguard.accounts import services

    person = services.get_employee(email)
    if not person.is_admin or person.status != "active":
        raise CommandError(f"--as {email}: not an active admin")
    return person


@needs_django
def cmd_create(args: argparse.Namespace) -> int:
    from smishguard.training import simulations

    template = _read_template(args.template) if args.template is not None else None
    simulation = simulations.create(
        name=args.name, group=args.group, template=template, campaign_id=args.from_campaign, window=args.window
    )
    counts = simulations.simulation_counts(simulation)
    if args.json:
        print_json(
            {
                **simulations.summary(simulation),
                "template": simulation.template,
                "skipped_by_reason": _skipped_by_reason(simulation),
            }
        )
    else:
        print(
            f"created simulation {simulation.pk} ({simulation.name}): {counts['recipients']} recipient(s), "
            f"{counts['skipped']} skipped; next: smishguard simulations launch {simulation.pk}"
        )
    return 0


def _skipped_by_reason(simulation) -> dict[str, int]:
    from django.db.models import Count

    from smishguard.training.models import Recipient

    rows = Recipient.objects.filter(simulation=simulation).exclude(skipped="").values("skipped").annotate(n=Count("id"))
    return {row["skipped"]: row["n"] for row in rows.order_by("skipped")}


@needs_django
def cmd_list(args: argparse.Namespace) -> int:
    from smishguard.training import simulations
    from smishguard.training.models import Simulation

    rows = [simulations.summary(s) for s in Simulation.objects.select_related("group").order_by("-created_at", "-id")]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no simulations; make one: smishguard simulations create NAME --template FILE --group G")
        return 0
    for row in rows:
        print(
            f"{row['id']:>4}  {row['status']:<17} {row['name']}  (group {row['group']}; {row['recipients']} "
            f"recipient(s), {row['sent']} sent, {row['clicked']} clicked, {row['reported']} reported)"
        )
    return 0


@needs_django
def cmd_change(args: argparse.Namespace) -> int:
    from smishguard.training import simulations

    actor = _admin(args.as_admin)
    simulation = simulations.get(args.simulation_id)
    if args.change == "launch":
        outcome = simulations.launch(simulation.pk, actor=actor)
        if args.json:
            print_json(
                {
                    "id": simulation.pk,
                    "status": outcome.simulation.status,
                    "launched": outcome.launched,
                    "recipients": outcome.recipients,
                    "request_id": outcome.request_id,
                }
            )
        else:
            print(outcome.message())
        return 0
    changed = getattr(simulations, args.change)(simulation.pk, actor=actor)
    if args.json:
        print_json({"id": changed.pk, "status": changed.status})
    else:
        print(f"simulation {changed.pk} is {changed.status}")
    return 0


@needs_django
def cmd_links(args: argparse.Namespace) -> int:
    from smishguard.training import simulations

    simulation = simulations.get(args.simulation_id)
    rows = simulations.links(simulation)
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['email']}\t{row['link']}")
    return 0


@needs_django
def cmd_results(args: argparse.Namespace) -> int:
    from smishguard.audit import Action, record
    from smishguard.training import simulations

    simulation = simulations.get(args.simulation_id)
    data = simulations.results(simulation)
    if args.json or args.csv:
        record(
            Action.SIMULATION_RESULTS_EXPORTED,
            subject_label=f"simulation {simulation.pk}",
            simulation_id=simulation.pk,
            format="json" if args.json else "csv",
            recipients=len(data["recipients"]),
        )
    if args.json:
        print_json(data)
        return 0
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["email", *simulations.EVENT_FIELDS], lineterminator="\n")
        writer.writeheader()
        for row in data["recipients"]:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
        return 0
    funnel = data["funnel"]
    first = funnel["time_to_first_report_seconds"]
    print(f"simulation {simulation.pk} ({simulation.name}): {simulation.status}")
    print(
        f"  {funnel['recipients']} recipient(s): {funnel['sent']} sent, {funnel['delivered']} delivered, "
        f"{funnel['clicked']} clicked, {funnel['submitted']} submitted, {funnel['reported']} reported"
        + (f"; first report after {first} s" if first is not None else "")
    )
    for row in data["recipients"]:
        steps = [name for name in simulations.EVENT_FIELDS if row[name]]
        print(f"  {row['email']}: {', '.join(steps) or 'not sent yet'}")
    return 0
