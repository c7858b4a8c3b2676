"""``smishguard migrate``, ``smishguard demo``, ``smishguard serve`` and ``smishguard doctor``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from smishguard.clitools import CommandError, setup_django


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="create or upgrade the database")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "demo",
        help="set up a demo organisation on SQLite under ./var and start the server",
        description="Migrate, create a demo organisation (an admin and a few employees), print the admin's "
        "enrolment link and serve on http://localhost:PORT with WebAuthn RP ID 'localhost'.",
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="set up and print the link, but do not start the server")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web server (gunicorn)")
    p.add_argument("--bind", default="127.0.0.1:8000", help="address:port (default 127.0.0.1:8000)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    p.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the scheduler place the workers (by default each is pinned to one CPU, in turn)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "doctor",
        help="say what is configured, what is reachable and what is unsafe",
        description="One line each: what is configured (database, Redis, origin, RP ID, Twilio, trusted proxies; "
        "never a password), what is reachable (database, migrations, Redis) and what is unsafe (DEBUG on, a "
        "placeholder or short secret key, an http origin that is not this machine).  Exit status 1 when "
        "anything is unsafe or unreachable, else 0.",
    )
    p.add_argument("--json", action="store_true", help="one JSON document instead of lines")
    p.set_defaults(func=cmd_doctor)


def _migrate(verbosity: int = 1) -> None:
    """Migrate as the database owner (SMISHGUARD_MIGRATE_DATABASE_URL when set, else SMISHGUARD_DATABASE_URL);
    then, on PostgreSQL with a services' role other than the owner, give that role its privileges (dbroles)."""
    from smishguard import config

    owner_url = config.migrate_database_url()
    services_url = config.services_database_url()
    if owner_url is not None:
        _same_database(owner_url, services_url)
        config.connect_as_owner()
    setup_django(create=True)
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        name = "SMISHGUARD_MIGRATE_DATABASE_URL" if owner_url else "SMISHGUARD_DATABASE_URL"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(f"cannot connect to the database at {name}: {reason}") from None
    role = None
    if owner_url is not None and connection.vendor == "postgresql":
        role = _services_role(services_url)  # checked before anything is migrated
    call_command("migrate", interactive=False, verbosity=verbosity)
    if role is not None:
        _grant_services_role(role, verbosity)


def _same_database(owner_url: str, services_url: str) -> None:
    import dj_database_url

    try:
        owner, services = dj_database_url.parse(owner_url), dj_database_url.parse(services_url)
    except ValueError as exc:
        raise CommandError(f"unreadable database URL: {exc}") from None
    if owner["ENGINE"] != services["ENGINE"] or owner.get("NAME") != services.get("NAME"):
        raise CommandError(
            "SMISHGUARD_MIGRATE_DATABASE_URL and SMISHGUARD_DATABASE_URL must name the same database (as two "
            f"roles): they name {owner.get('NAME')!r} and {services.get('NAME')!r}"
        )


def _services_role(services_url: str) -> str | None:
    """The role SMISHGUARD_DATABASE_URL connects as, when it is not the owner's (None: one role for everything,
    which doctor calls unsafe); CommandError when no such role exists."""
    from django.db import connection

    from smishguard import dbroles

    role = dbroles.role_of(services_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return None
        if not dbroles.role_exists(cursor, role):
            raise CommandError(
                f"the role {role!r} of SMISHGUARD_DATABASE_URL does not exist: create it (docs/deploy.md, "
                '"Database roles")'
            )
    return role


def _grant_services_role(role: str, verbosity: int) -> None:
    from django.db import connection, transaction

    from smishguard import dbroles
    from smishguard.audit import Action, record

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with transaction.atomic():
        changed = dbroles.grant_privileges(connection, role)
        if changed:
            record(
                Action.DATABASE_ROLE_GRANTED,
                role=role,
                owner=owner,
                changed=changed,
                append_only=dbroles.append_only_tables(),
            )
    if verbosity:
        state = f"privileges set on {changed} relation(s)" if changed else "privileges already in place"
        print(f"  Services' role {role}: {state} (audit table: insert and read only)")


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise CommandError(f"--port must be between 1 and 65535, not {args.port}")
    from smishguard import server

    with server.multiprocess_metrics():  # as `smishguard serve`: its two workers' counters add up on /metrics
        return _demo(args)


def _demo(args: argparse.Namespace) -> int:
    origin = f"http://localhost:{args.port}"
    # The demo serves http://localhost:PORT, and WebAuthn checks the origin: an exported SMISHGUARD_ORIGIN or
    # RP ID naming anything else would make every key ceremony fail, so the demo's own win (and are said).
    for name, value in (("SMISHGUARD_ORIGIN", origin), ("SMISHGUARD_RP_ID", "localhost")):
        if os.environ.get(name, value).rstrip("/") != value:
            print(f"smishguard demo: {name}={os.environ[name]} ignored: the demo serves {origin}", file=sys.stderr)
        os.environ[name] = value
    setup_django(create=True, recorded_origin=False)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)  # the demo's own database, as its one role
    from smishguard import config

    config.record_origin(origin)  # `smishguard employees invite` and the like print links on this port
    from smishguard.demo import second_admin_link, seed_demo

    link = seed_demo()
    from smishguard.demo_week import seed_week

    seed_week()  # a week of reported texts, campaigns, a CT alert and a blocklist, made by the product (once)
    print(f"smishguard demo: {origin}")
    print("Database:", _db_name())
    if link is not None:
        print("Enrol the demo admin's security key (single use, 24 h):")
        print(f"  {link.url}")
    else:
        print("The demo admin already has a key: sign in at", f"{origin}/signin")
    second = second_admin_link()
    if second is not None:
        print("Enrol the second admin's key (sam.second@example.com) to try four-eyes approvals; the demo dates")
        print("Sam's rights and key past the waiting age, so Sam can approve what you ask at once:")
        print(f"  {second.url}")
    if args.no_serve:
        return 0
    from smishguard.demo import keep_second_admin_eligible

    keep_second_admin_eligible()
    print("Press Ctrl-C to stop.", flush=True)
    return _serve(bind=f"127.0.0.1:{args.port}", workers=2)


def _db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def cmd_serve(args: argparse.Namespace) -> int:
    from smishguard import server

    with server.multiprocess_metrics():  # before Django: prometheus-client picks its mode when first imported
        setup_django(recorded_origin=False)
        from django.conf import settings

        from smishguard import config

        config.record_origin(settings.SMISHGUARD.origin)  # the CLI's links follow the running server
        return _serve(bind=args.bind, workers=args.workers, pin=args.pin)


def cmd_doctor(args: argparse.Namespace) -> int:
    from smishguard.clitools import print_json
    from smishguard.doctor import examine

    report = examine()
    if args.json:
        print_json(report.as_json())
    else:
        print("\n".join(report.lines()))
    return 0 if report.healthy else 1


def _serve(*, bind: str, workers: int, pin: bool = True) -> int:
    from django.db import connections

    connections.close_all()
    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    from smishguard import server
    from smishguard.wsgi import application

    if settings.LOG_FORMAT == "json":
        logging.captureWarnings(True)  # a Python warning becomes a JSON line too, not free text on stderr

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "smishguard.server." + ("SyncWorker" if pin else "UnpinnedSyncWorker"))
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", server.ACCESS_LOG_FORMAT)
            self.cfg.set("logger_class", "smishguard.server.AccessLogger")
            self.cfg.set("graceful_timeout", 5)
            self.cfg.set("child_exit", server.child_exit)  # prometheus-client's multiprocess bookkeeping
            self.cfg.set("on_reload", server.on_reload)  # SIGHUP: the route policy read again (docs/gateway.md)
            # gunicorn 25.1+ opens a control socket for gunicornc under $XDG_RUNTIME_DIR or ~/.gunicorn/ by
            # default: a file outside the data folder, and a way to manage the workers nobody asked for.
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return application

    _App().run()
    return 0
