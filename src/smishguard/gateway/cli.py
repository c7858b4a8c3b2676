"""``smishguard gateway check``: which rule a request meets, and what the gateway would answer, and why."""

from __future__ import annotations

import argparse
import ipaddress

from smishguard.clitools import CommandError, needs_django, print_json

EXPLAINED = {
    "signed_in": "the rule admits any signed-in employee it covers",
    "step_up_fresh": "the session touched its key within the rule's reauth_max_age",
    "default": "no rule matched; default_policy is signed_in",
    "signed_out": "not signed in: the sign-in page",
    "step_up": "the session's last key touch is older than the rule's reauth_max_age: touch the key again",
    "forbidden": "the rule denies this request",
    "unknown_host": "no rule names this host",
    "no_rule": "no rule covers this path; default_policy is deny",
    "method": "the closest rule covering this path does not take this method; default_policy is deny",
    "network": "the closest rule covering this path does not take this client address; default_policy is deny",
    "subject": "the closest rule covering this path does not name this employee or their groups; "
    "default_policy is deny",
}


def register(sub: argparse._SubParsersAction) -> None:
    gateway = sub.add_parser("gateway", help="the gateway in front of the internal apps: its route policy")
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
    register_rotate_key(gsub)


@needs_django
def cmd_check(args: argparse.Namespace) -> int:
    from smishguard.accounts.models import Employee
    from smishguard.gateway import loading, rules
    from smishguard.gateway.errors import RequestRefused
    from smishguard.gateway.normalise import normalise
    from smishguard.gateway.policy import Who, decide

    policy = rules.current()
    loading.check_groups(policy)
    try:
        request = normalise(args.method.upper() if args.method.isascii() else args.method, args.url)
    except RequestRefused as exc:
        raise CommandError(f"the gateway refuses this request ({exc.reason}): {exc.message}") from None
    if args.address is not None:
        try:
            ipaddress.ip_address(args.address)
        except ValueError:
            raise CommandError(f"--address {args.address!r} is not an IP address") from None
    if not args.seconds_since_key >= 0:
        raise CommandError("--seconds-since-key must be a number >= 0")
    who = None
    if args.user is not None:
        email = args.user.strip().lower()
        employee = Employee.objects.filter(email=email).prefetch_related("groups").first()
        if employee is None:
            raise CommandError(f"no employee with the email {email!r}")
        if employee.status != Employee.Status.ACTIVE:
            raise CommandError(f"{email} is {employee.status}: they cannot sign in")
        who = Who(email=employee.email, groups=frozenset(g.name for g in employee.groups.all()))
    decision = decide(
        policy,
        request,
        who=who,
        client=args.address,
        seconds_since_key=args.seconds_since_key if who is not None else None,
    )
    if args.json:
        print_json(decision.as_dict())
        return 0
    asker = who.email if who is not None else "a visitor who is not signed in"
    print(f"{request.method} {request.url} as {asker}")
    rule = next((r for r in policy.rules if r.number == decision.rule), None)
    print(rule.describe() if rule is not None else f"no rule decides (default_policy {policy.default_policy})")
    print(f"decision: {decision.decision} ({decision.reason}: {EXPLAINED.get(decision.reason, decision.reason)})")
    if decision.customer is not None:
        print(f"customer: {decision.customer}")
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
