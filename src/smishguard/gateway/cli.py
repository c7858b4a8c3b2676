"""``smishguard gateway check``: which rule a request meets, and what the gateway would answer, and why."""

from __future__ import annotations

import argparse
import ipaddress

from smishguard.clitools import CommandError, iso_time, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    gateway = sub.add_parser(
        "gateway", help="the gateway in front of the internal apps: its route policy, access record and containment"
    )
    gsub = gateway.add_subparsers(dest="gateway_command", metavar="ACTION")
    gsub.required = True
    p = gsub.add_parser(
        "check",
        help="which rule a request meets, the decision and why",
        description="Normalise URL as the gateway does, find the [[gateway.rules]] of smishguard.toml that decides "
        "it, and print the decision (allow, deny, sign_in, step_up) and why, for EMAIL freshly signed in (or "
        "--seconds-since-key ago), or for a visitor who is not signed in when --user is left out.  Exit status 0 "
        "whatever the decision; 2 for an unknown employee, a URL the gateway refuses, or a policy that does not load.",
    )
    p.add_argument("url", metavar="URL", help="the full URL, e.g. https://customers.example.com/customers/7")
    p.add_argument("--user", metavar="EMAIL", help="the employee asking (left out: not signed in)")
    p.add_argument("--method", default="GET", help="the HTTP method (default GET)")
    p.add_argument("--address", metavar="IP", help="the client address, for rules with networks (default: none)")
    p.add_argument(
        "--seconds-since-key",
        type=float,
        default=0.0,
        metavar="N",
        help="seconds since the session last touched its key (default 0: just signed in)",
    )
    p.add_argument("--json", action="store_true", help='print {"decision","rule","reason","customer"}')
    p.set_defaults(func=cmd_check)
    p = gsub.add_parser(
        "rules",
        help="the route policy of smishguard.toml, checked, with its fingerprint",
        description="Read [gateway] from smishguard.toml as a web server's start or reload would, check it (every "
        "group a rule names must exist), and print its fingerprint, default policy, trusted proxies and rules in "
        "the order they are tried.  Exit status 2, with one line naming the rule and the key, when it does not "
        "load: run before `systemctl reload smishguard-web` (deploy/systemd/smishguard-web.service does).",
    )
    p.add_argument("--json", action="store_true", help="print the policy as JSON")
    p.set_defaults(func=cmd_rules)
    register_rotate_key(gsub)
    register_access(gsub)


@needs_django
def cmd_check(args: argparse.Namespace) -> int:
    from smishguard.gateway import rules, trial

    policy = rules.current()
    if args.address is not None:
        try:
            ipaddress.ip_address(args.address)
        except ValueError:
            raise CommandError(f"--address {args.address!r} is not an IP address") from None
    if not args.seconds_since_key >= 0:  # also NaN
        raise CommandError("--seconds-since-key must be a number >= 0")
    try:
        tried = trial.run(
            policy,
            url=args.url,
            email=args.user,
            method=args.method,
            address=args.address,
            seconds_since_key=args.seconds_since_key,
        )
    except trial.TrialError as exc:
        raise CommandError(exc.message) from None
    if args.json:
        print_json(tried.decision.as_dict())
    else:
        print("\n".join(tried.lines(policy)))
    return 0


@needs_django
def cmd_rules(args: argparse.Namespace) -> int:
    from smishguard.config import ConfigError
    from smishguard.gateway import loading, rules

    policy = rules.current()
    try:
        loading.check_groups(policy)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    fingerprint = rules.fingerprint()
    if args.json:
        print_json({"fingerprint": fingerprint, **policy.as_dict()})
        return 0
    print(f"policy {fingerprint}: default_policy {policy.default_policy}, {len(policy.rules)} rule(s)")
    print("proxies allowed to ask: " + ", ".join(policy.trusted_proxies))
    for rule in policy.rules:
        print(rule.describe())
    return 0


# --------------------------------------------------------------------------------------------------------
# smishguard gateway rotate-key: a new key signs X-Smishguard-Assertion (gateway/keys.py)
# --------------------------------------------------------------------------------------------------------


def register_rotate_key(gsub: argparse._SubParsersAction) -> None:
    p = gsub.add_parser(
        "rotate-key",
        help="a new key signs X-Smishguard-Assertion; the old one stays published until its assertions expire",
        description="Make a new current signing key for X-Smishguard-Assertion (ES256).  The old key signs no more "
        "(every host moves to the new one within seconds; its private key is erased) and stays in "
        "/.well-known/smishguard/jwks.json for 10 minutes, so the assertions it signed still verify until they "
        "expire.  Prints the new key's kid; audited (gateway:key:rotated).  Also the way out when the current "
        "key cannot be decrypted (SECRET_KEY changed).",
    )
    p.add_argument("--json", action="store_true", help='print {"kid","retired","retired_published_until"}')
    p.set_defaults(func=cmd_rotate_key)


@needs_django
def cmd_rotate_key(args: argparse.Namespace) -> int:
    from smishguard.gateway import keys

    rotation = keys.rotate()
    if args.json:
        print_json(rotation.as_dict())
        return 0
    print(rotation.kid)
    return 0


# --- the access record and containment: `gateway access export|prune`, `gateway release` ------------------------
# (gateway.access, gateway.retention, gateway.containment; docs/gateway.md "The access record and containment")


def register_access(gsub: argparse._SubParsersAction) -> None:
    access = gsub.add_parser("access", help="the access record of customer-data routes: export, prune")
    asub = access.add_subparsers(dest="access_command", metavar="ACTION")
    asub.required = True
    p = asub.add_parser(
        "export",
        help="write the access record as JSON lines",
        description="One JSON object per line, oldest first: id, at, employee (email), session, method, host, path "
        "(normalised, no query), rule, decision, reason, customer, ip.  Audited (gateway:access:exported).",
    )
    p.add_argument("--since", metavar="ISO", help="only rows at or after this time (UTC when no zone is given)")
    p.add_argument("--user", metavar="EMAIL", help="only this employee's rows")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_access_export)
    p = asub.add_parser(
        "prune",
        help="delete access rows older than a time (retention), as the database owner",
        description="Deletes every access row written before --before, in one transaction, audited "
        "(gateway:access:pruned).  On PostgreSQL it connects as the database owner, "
        "SMISHGUARD_MIGRATE_DATABASE_URL (the services' role may not delete access rows), and refuses to run "
        "without it; on SQLite it lifts the table's DELETE trigger for that one transaction.",
    )
    p.add_argument("--before", required=True, metavar="ISO", help="an ISO 8601 date or time (UTC when no zone)")
    p.add_argument("--json", action="store_true", help='print {"deleted", "before"}')
    p.set_defaults(func=cmd_access_prune)

    p = gsub.add_parser(
        "release",
        help="ask for a contained employee's release (a second admin approves it)",
        description="Opens the four-eyes request that lifts EMAIL's containment (bulk_read_contained) and prints "
        "its id; a second, eligible admin approves it with `smishguard employees approve ID --as OTHER_ADMIN`. "
        "ADMIN must be an active admin other than EMAIL.  Audited.",
    )
    p.add_argument("email", metavar="EMAIL", help="the contained employee")
    p.add_argument("--as", dest="as_admin", metavar="ADMIN_EMAIL", required=True, help="the admin asking")
    p.add_argument("--reason", default="", help="why (kept with the request)")
    p.add_argument("--json", action="store_true", help='print {"request", "employee"}')
    p.set_defaults(func=cmd_release)


def _employee(email: str, option: str = "EMAIL"):
    from smishguard.accounts.models import Employee

    found = Employee.objects.filter(email__iexact=email.strip()).first()
    if found is None:
        raise CommandError(f"{option}: no employee with the email {email.strip().lower()!r}")
    return found


@needs_django
def cmd_access_export(args: argparse.Namespace) -> int:
    import json
    import sys

    from smishguard.audit import Action, record
    from smishguard.gateway.models import AccessRecord

    rows = AccessRecord.objects.order_by("at", "id")
    since = iso_time(args.since, "--since") if args.since else None
    employee = _employee(args.user, "--user") if args.user else None
    if since is not None:
        rows = rows.filter(at__gte=since)
    if employee is not None:
        rows = rows.filter(employee=employee)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 - closed below
    count = 0
    try:
        for row in rows.select_related("employee").iterator(chunk_size=2000):
            out.write(json.dumps(row.to_dict(row.employee.email if row.employee else None)) + "\n")
            count += 1
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        if args.out:
            out.close()
    record(
        Action.GATEWAY_ACCESS_EXPORTED,
        rows=count,
        since=since.isoformat() if since else None,
        user=employee.email if employee else None,
    )
    return 0


def cmd_access_prune(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from smishguard import config
    from smishguard.clitools import setup_django

    cutoff = iso_time(args.before, "--before")
    if cutoff > datetime.now(UTC):
        raise CommandError(f"--before {cutoff.isoformat()} is in the future: prune keeps every row not yet old")
    if config.services_database_url().startswith(("postgres://", "postgresql://")):
        if config.migrate_database_url() is None:
            raise CommandError(
                "gateway access prune deletes access rows, which the services' database role may not: run it with "
                "the database owner's URL in SMISHGUARD_MIGRATE_DATABASE_URL (as `smishguard migrate`)"
            )
        config.connect_as_owner()
    setup_django()
    from django.db import DatabaseError

    from smishguard.gateway import retention

    try:
        deleted = retention.prune(cutoff)
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(f"the database refused the prune: {first}") from None
    if args.json:
        print_json({"deleted": deleted, "before": cutoff.isoformat()})
    else:
        print(f"pruned {deleted} access record(s) written before {cutoff.isoformat()}")
    return 0


@needs_django
def cmd_release(args: argparse.Namespace) -> int:
    from smishguard.gateway import containment

    employee = _employee(args.email)
    actor = _employee(args.as_admin, "--as")
    rec = containment.request_release(employee, actor=actor, reason=args.reason)
    if args.json:
        print_json({"request": rec.pk, "employee": employee.email})
    else:
        print(f"release request #{rec.pk} for {employee.email} is open")
        print(f"A second admin approves it: smishguard employees approve {rec.pk} --as OTHER_ADMIN_EMAIL")
    return 0
