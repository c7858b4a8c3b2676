"""``smishguard employees ...`` and ``smishguard sessions ...``.

Whoever runs the CLI on the server is trusted as the operator: commands act without signing in (``employees
add --admin``, ``import`` with the admin column and ``invite`` of an admin act at once, with no four-eyes
request), and the audit trail records them as ``cli:<os user>``.  ``employees approve --as`` approves as that
admin, under the same eligibility rules as the console.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smishguard.clitools import CommandError, iso_time, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    emp = sub.add_parser("employees", help="add, import, invite, suspend and offboard employees")
    esub = emp.add_subparsers(dest="employees_command", metavar="ACTION")
    esub.required = True

    p = esub.add_parser("add", help="add an employee")
    p.add_argument("email")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", default="", help="mobile number in E.164 form, e.g. +14155550100")
    p.add_argument("--department", default="")
    p.add_argument("--group", action="append", default=[], help="a group; repeat for several")
    p.add_argument("--admin", action="store_true", help="make the employee a console admin")
    p.add_argument("--time-zone", default="", metavar="TZ", help="IANA name, e.g. Europe/London (simulation windows)")
    p.add_argument(
        "--simulations",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="in the SMS phishing simulation programme (or not)",
    )
    p.add_argument("--json", action="store_true", help="print the employee as JSON")
    p.set_defaults(func=cmd_add)

    p = esub.add_parser("update", help="change an employee's details (what is left out stays as it is)")
    p.add_argument("email")
    p.add_argument("--name")
    p.add_argument("--phone", help="mobile number in E.164 form; '' to remove it")
    p.add_argument("--department")
    p.add_argument("--time-zone", metavar="TZ", help="IANA name, e.g. Europe/London; '' for the company's default")
    p.add_argument(
        "--simulations",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="put the employee in the SMS phishing simulation programme, or take them out",
    )
    p.add_argument("--json", action="store_true", help="print the employee as JSON")
    p.set_defaults(func=cmd_update)

    p = esub.add_parser(
        "import",
        help="create or update employees from a CSV file",
        description="CSV header: email,name[,phone,department,groups,admin]; groups separated by ';' or ',' (quoted). "
        "Bad rows are reported with their line number; good rows are kept.",
    )
    p.add_argument("file", help="CSV file, or - for standard input")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    for name, helptext in (
        ("suspend", "suspend an employee and revoke their sessions at once"),
        ("reactivate", "make a suspended employee active again"),
        ("offboard", "offboard an employee: every session and key revoked at once"),
    ):
        p = esub.add_parser(name, help=helptext)
        p.add_argument("email")
        p.set_defaults(func=cmd_status, status_action=name)

    p = esub.add_parser(
        "invite",
        help="issue a single-use enrolment link (or a recovery request for an employee who lost every key)",
    )
    p.add_argument("email")
    p.add_argument("--as", dest="as_admin", metavar="ADMIN_EMAIL", help="the admin asking (recorded; four eyes)")
    p.add_argument("--reason", default="", help="why a recovery is needed (recorded)")
    p.add_argument(
        "--break-glass",
        action="store_true",
        help="issue a recovery link at once, without a second admin: only when no admin can approve one (the last "
        "admin with a working key is locked out); needs --reason; audited as accounts:recovery:break_glass",
    )
    p.add_argument("--json", action="store_true", help='print {"url", "token", "expires"}')
    p.set_defaults(func=cmd_invite)

    p = esub.add_parser(
        "approve",
        help="approve a pending four-eyes request (recovery, admin rights, an admin's first link, or a kind another "
        "app registers, such as the gateway's release from containment) as a second admin; prints the link if one "
        "is issued",
    )
    p.add_argument("request_id", type=int)
    p.add_argument("--as", dest="as_admin", metavar="ADMIN_EMAIL", required=True, help="the approving admin")
    p.add_argument("--json", action="store_true", help='print {"url", "token", "expires"}')
    p.set_defaults(func=cmd_approve)

    p = esub.add_parser(
        "expire-links",
        help="end every unused enrolment link issued before a time (links that may sit in old logs)",
        description="Ends (cancels) every enrolment link issued before --issued-before that has not been used. "
        "Run it once after upgrading to a version that redacts enrolment tokens from logs, with the time of the "
        "upgrade: links issued before it may appear in old access logs. Audited; prints how many were ended.",
    )
    p.add_argument(
        "--issued-before",
        required=True,
        metavar="ISO",
        help="an ISO 8601 date or time, e.g. 2026-03-02 or 2026-03-02T09:00:00Z (UTC when no zone is given)",
    )
    p.add_argument("--json", action="store_true", help='print {"expired", "issued_before"}')
    p.set_defaults(func=cmd_expire_links)

    p = esub.add_parser("list", help="list employees")
    p.add_argument("--status", choices=["active", "suspended", "offboarded"])
    p.add_argument("--department")
    p.add_argument("--json", action="store_true", help="JSON lines")
    p.set_defaults(func=cmd_list)

    ses = sub.add_parser("sessions", help="list and revoke sign-in sessions")
    ssub = ses.add_subparsers(dest="sessions_command", metavar="ACTION")
    ssub.required = True
    p = ssub.add_parser("revoke", help="revoke sessions at once, in every process")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="EMAIL", help="revoke every session of this employee")
    who.add_argument("--all", action="store_true", help="revoke every live session of everyone")
    p.add_argument("--reason", default="revoked by operator")
    p.set_defaults(func=cmd_sessions_revoke)
    p = ssub.add_parser("list", help="list live sessions")
    p.add_argument("--user", metavar="EMAIL")
    p.add_argument("--json", action="store_true", help="JSON lines ([] when there is none)")
    p.set_defaults(func=cmd_sessions_list)
    _register_tokens(sub)


def _register_tokens(sub: argparse._SubParsersAction) -> None:
    tok = sub.add_parser("tokens", help="API tokens for integrations")
    tsub = tok.add_subparsers(dest="tokens_command", metavar="ACTION")
    tsub.required = True
    p = tsub.add_parser("issue", help="issue a token; the secret is printed once")
    p.add_argument("name")
    p.add_argument(
        "--scope",
        action="append",
        default=[],
        help="scan, reports, blocklists or reports:attribute (repeatable; reports:attribute, given with reports, "
        "lets the token name the employee who reported)",
    )
    p.add_argument("--json", action="store_true", help='print {"id", "name", "token", "scopes"}')
    p.set_defaults(func=cmd_tokens_issue)
    p = tsub.add_parser("list", help="list tokens (never their secrets)")
    p.add_argument("--json", action="store_true", help="JSON lines ([] when there is none)")
    p.set_defaults(func=cmd_tokens_list)
    p = tsub.add_parser("revoke", help="revoke a token at once")
    p.add_argument("token_id", type=int)
    p.set_defaults(func=cmd_tokens_revoke)


@needs_django
def cmd_tokens_issue(args: argparse.Namespace) -> int:
    from smishguard.accounts import tokens

    row, secret = tokens.issue(args.name, scopes=args.scope or ["scan"])
    if args.json:
        print_json({"id": row.pk, "name": row.name, "token": secret, "scopes": row.scopes})
    else:
        print(f"token {row.pk} '{row.name}' ({', '.join(row.scopes)}); keep it secret, it is not shown again:")
        print(secret)
    return 0


@needs_django
def cmd_tokens_list(args: argparse.Namespace) -> int:
    from smishguard.accounts.models import ApiToken

    listed = 0
    for t in ApiToken.objects.all():
        listed += 1
        state = "revoked" if t.revoked_at else "active"
        if args.json:
            print_json(
                {
                    "id": t.pk,
                    "name": t.name,
                    "prefix": t.prefix,
                    "scopes": t.scopes,
                    "state": state,
                    "created_at": t.created_at.isoformat(),
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
            )
            continue
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        print(f"{t.pk:>4} {t.name:<24} {t.prefix}…  {','.join(t.scopes):<20} {state:<8} last used {used}")
    if not listed:
        print("[]" if args.json else "no API tokens")
    return 0


@needs_django
def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from smishguard.accounts import tokens

    row = tokens.revoke(args.token_id)
    print(f"revoked token {row.pk} '{row.name}'")
    return 0


def _employee_dict(e) -> dict:
    return {
        "email": e.email,
        "name": e.name,
        "phone": e.phone,
        "department": e.department,
        "groups": sorted(g.name for g in e.groups.all()),
        "status": e.status,
        "is_admin": e.is_admin,
        "keys": e.credentials.filter(revoked_at__isnull=True, flagged_at__isnull=True).count(),  # working keys
        "time_zone": e.time_zone,
        "in_simulations": e.in_simulations,
    }


def _get(email: str):
    from smishguard.accounts import services

    return services.get_employee(email)


@needs_django
def cmd_add(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    e = services.add_employee(
        email=args.email,
        name=args.name,
        phone=args.phone,
        department=args.department,
        groups=args.group,
        is_admin=args.admin,
        time_zone=args.time_zone,
        in_simulations=args.simulations,
    )
    if args.json:
        print_json(_employee_dict(e))
    else:
        role = "admin" if e.is_admin else "employee"
        print(f"added {role} {e.name} <{e.email}>; next: smishguard employees invite {e.email}")
    return 0


@needs_django
def cmd_update(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    e = services.get_employee(args.email)
    e = services.update_employee(
        e,
        name=e.name if args.name is None else args.name,
        phone=e.phone if args.phone is None else args.phone,
        department=e.department if args.department is None else args.department,
        groups=[g.name for g in e.groups.all()],
        time_zone=args.time_zone,
        in_simulations=args.simulations,
    )
    if args.json:
        print_json(_employee_dict(e))
    else:
        print(f"updated {e.name} <{e.email}>")
    return 0


@needs_django
def cmd_import(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    result = services.import_csv(data)
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"created {len(result.created)}, updated {len(result.updated)}, rejected {len(result.errors)}")
        for err in result.errors:
            print(f"  line {err.line}: {err.message}", file=sys.stderr)
    return 1 if result.errors else 0


@needs_django
def cmd_status(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    employee = _get(args.email)
    if args.status_action == "suspend":
        n = services.suspend(employee)
        print(f"suspended {employee.email}; {n} session(s) revoked")
    elif args.status_action == "reactivate":
        services.reactivate(employee)
        print(f"reactivated {employee.email}")
    else:
        counts = services.offboard(employee)
        print(
            f"offboarded {employee.email}; {counts['sessions_revoked']} session(s) and "
            f"{counts['keys_revoked']} key(s) revoked, {counts['links_cancelled']} enrolment link(s) cancelled"
        )
    return 0


def _admin(email: str | None):
    if email is None:
        return None
    admin = _get(email)
    if not admin.is_admin:
        raise CommandError(f"{admin.email} is not an admin")
    return admin


@needs_django
def cmd_invite(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    employee = _get(args.email)
    actor = _admin(args.as_admin)
    if args.break_glass and actor is not None:
        raise CommandError("--break-glass is the server operator's own act: leave out --as")
    if args.break_glass:
        issued = services.break_glass(employee, reason=args.reason)
    else:
        issued = services.invite(employee, actor=actor, reason=args.reason, trusted_operator=True)
    if args.break_glass and not args.json:
        print(f"break glass: recovery link for {employee.email} issued without a second admin (audited).")
    if isinstance(issued, services.IssuedLink):
        if args.json:
            print_json(issued.to_dict())
        else:
            print(f"enrolment link for {employee.email} (single use, expires {issued.expires:%Y-%m-%d %H:%M} UTC):")
            print(issued.url)
        return 0
    approvers = services.eligible_approvers(employee)
    if args.json:
        print_json(
            {
                "recovery_request": issued.pk,
                "status": issued.status,
                "employee": employee.email,
                "eligible_approvers": [a.email for a in approvers],
            }
        )
        return 0
    print(f"{employee.email} has no working security key: recovery request {issued.pk} is pending.")
    if approvers:
        print(f"A second admin approves it: smishguard employees approve {issued.pk} --as ADMIN_EMAIL")
        print(f"  (eligible now: {', '.join(a.email for a in approvers)})")
    else:
        print("No admin can approve it now (none has a working key old enough). As the operator on this server,")
        print("issue the link at once (break glass, audited; see docs/deploy.md):")
        print(f"  smishguard employees invite {employee.email} --break-glass --reason 'WHY'")
    return 0


@needs_django
def cmd_approve(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    approver = _admin(args.as_admin)
    approval = services.approve(args.request_id, approver=approver)
    issued = approval.link
    if issued is None:
        if args.json:
            print_json({"approved": args.request_id, "kind": approval.kind, "employee": approval.employee.email})
        else:
            print(f"approved; {approval.done or f'{approval.employee.email} is now an admin'}")
        return 0
    if args.json:
        print_json(issued.to_dict())
    else:
        print(f"approved; enrolment link (single use, expires {issued.expires:%Y-%m-%d %H:%M} UTC):")
        print(issued.url)
    return 0


@needs_django
def cmd_expire_links(args: argparse.Namespace) -> int:
    from smishguard.accounts import services

    cutoff = iso_time(args.issued_before, "--issued-before")
    count = services.expire_links(cutoff)
    if args.json:
        print_json({"expired": count, "issued_before": cutoff.isoformat()})
    else:
        print(f"expired {count} unused enrolment link(s) issued before {cutoff.isoformat()}")
    return 0


@needs_django
def cmd_list(args: argparse.Namespace) -> int:
    from smishguard.accounts.models import Employee

    qs = Employee.objects.prefetch_related("groups")
    if args.status:
        qs = qs.filter(status=args.status)
    if args.department:
        qs = qs.filter(department__iexact=args.department)
    for e in qs:
        d = _employee_dict(e)
        if args.json:
            print_json(d)
        else:
            admin = " admin" if d["is_admin"] else ""
            print(f"{d['email']:<36} {d['name']:<24} {d['department']:<14} {d['status']:<10} keys={d['keys']}{admin}")
    return 0


@needs_django
def cmd_sessions_revoke(args: argparse.Namespace) -> int:
    from smishguard.accounts import sessions
    from smishguard.accounts.models import Session

    qs = Session.objects.all() if args.all else Session.objects.filter(employee=_get(args.user))
    n = sessions.revoke(qs, reason=args.reason)
    target = "everyone" if args.all else args.user
    print(f"revoked {n} session(s) of {target}")
    return 0


@needs_django
def cmd_sessions_list(args: argparse.Namespace) -> int:
    from smishguard.accounts import sessions

    qs = sessions.live().select_related("employee")
    if args.user:
        qs = qs.filter(employee=_get(args.user))
    listed = 0
    for s in qs:
        listed += 1
        row = {
            "id": s.pk,
            "email": s.employee.email,
            "created_at": s.created_at.isoformat(),
            "last_seen_at": s.last_seen_at.isoformat(),
            "ip": s.ip,
            "user_agent": s.user_agent,
        }
        if args.json:
            print_json(row)
        else:
            print(f"{s.pk:>6} {s.employee.email:<36} since {s.created_at:%Y-%m-%d %H:%M} from {s.ip or '-'}")
    if not listed:  # said, not left silent: an empty JSON list, or a line for a person
        print("[]" if args.json else f"no live sessions{f' of {args.user}' if args.user else ''}")
    return 0
