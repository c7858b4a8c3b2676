"""``smishguard keys list`` and ``smishguard keys revoke``: an employee's security keys, for the operator on the server.

Revoking a key ends the sessions it opened, as flagging one does; the audit trail records it as ``cli:<os user>``.
"""

from __future__ import annotations

import argparse

from smishguard.clitools import CommandError, needs_django, print_json


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="list and revoke employees' security keys")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    ksub.required = True
    p = ksub.add_parser("list", help="list an employee's security keys: active, flagged (possibly cloned) or revoked")
    p.add_argument("--user", metavar="EMAIL", required=True, help="the employee's email")
    p.add_argument("--json", action="store_true", help="JSON lines ([] when there is none)")
    p.set_defaults(func=cmd_keys_list)
    p = ksub.add_parser(
        "revoke",
        help="revoke one security key at once (a flagged or lost one) and end the sessions it opened",
    )
    p.add_argument("key_id", type=int, metavar="KEY_ID", help="the key's id, from `smishguard keys list`")
    p.set_defaults(func=cmd_keys_revoke)


def _state(key) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "flagged" if key.flagged_at is not None else "active"


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


@needs_django
def cmd_keys_list(args: argparse.Namespace) -> int:
    from smishguard.accounts import services
    from smishguard.passkeys.models import Credential

    employee = services.get_employee(args.user)
    listed = 0
    for key in Credential.objects.filter(employee=employee).order_by("created_at", "pk"):
        listed += 1
        state = _state(key)
        if args.json:
            print_json(
                {
                    "id": key.pk,
                    "email": employee.email,
                    "name": key.name,
                    "model": key.model,
                    "state": state,
                    "created_at": _when(key.created_at),
                    "last_used_at": _when(key.last_used_at),
                    "flagged_at": _when(key.flagged_at),
                    "flag_reason": key.flag_reason,
                    "revoked_at": _when(key.revoked_at),
                    "revoke_reason": key.revoke_reason,
                }
            )
            continue
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        why = key.flag_reason if state == "flagged" else key.revoke_reason if state == "revoked" else ""
        line = f"{key.pk:>6} {key.name or '-':<28} {key.model or '-':<24} {state:<8} added {key.created_at:%Y-%m-%d}"
        print(f"{line} last used {used}{f' ({why})' if why else ''}")
    if not listed:
        print("[]" if args.json else f"no security keys for {employee.email}")
    return 0


@needs_django
def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from smishguard.passkeys.keys import remove_key
    from smishguard.passkeys.models import Credential

    key = Credential.objects.select_related("employee").filter(pk=args.key_id).first()
    if key is None:
        raise CommandError(f"no security key {args.key_id}: see `smishguard keys list --user EMAIL`")
    if key.revoked_at is not None:
        raise CommandError(f"key {key.pk} ({key.name or 'unnamed'}) of {key.employee.email} is already revoked")
    remove_key(key, actor=None)
    ended = key.sessions.filter(revoke_reason="key removed").count()
    print(f"revoked key {key.pk} ({key.name or 'unnamed'}) of {key.employee.email}; {ended} session(s) it opened ended")
    return 0
