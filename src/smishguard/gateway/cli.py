"""``smishguard gateway check``: which rule a request meets, and what the gateway would answer, and why."""

from __future__ import annotations

import argparse
import ipaddress

from smishguard.clitools import CommandError, needs_django, print_json


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
