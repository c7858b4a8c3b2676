"""``smishguard migrate``, ``smishguard demo`` and ``smishguard serve``."""

from __future__ import annotations

import argparse
import os

from smishguard.cli import CommandError, needs_django


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


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


@needs_django
def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise CommandError(f"--port must be between 1 and 65535, not {args.port}")
    origin = f"http://localhost:{args.port}"
    os.environ.setdefault("SMISHGUARD_ORIGIN", origin)
    os.environ.setdefault("SMISHGUARD_RP_ID", "localhost")
    from smishguard.cli import setup_django

    setup_django()
    _migrate(verbosity=0)
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
        print("Enrol the second admin's key (sam.second@example.com), to try four-eyes approvals; restart the demo")
        print("afterwards: each start dates Sam's rights and keys past the waiting age:")
        print(f"  {second.url}")
    if args.no_serve:
        return 0
    print("Press Ctrl-C to stop.", flush=True)
    return _serve(bind=f"127.0.0.1:{args.port}", workers=2)


def _db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


@needs_django
def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(bind=args.bind, workers=args.workers, pin=args.pin)


def _serve(*, bind: str, workers: int, pin: bool = True) -> int:
    from django.db import connections

    connections.close_all()
    from gunicorn.app.base import BaseApplication

    from smishguard import server
    from smishguard.wsgi import application

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "smishguard.server." + ("SyncWorker" if pin else "UnpinnedSyncWorker"))
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", server.ACCESS_LOG_FORMAT)
            self.cfg.set("logger_class", "smishguard.server.AccessLogger")
            self.cfg.set("graceful_timeout", 5)

        def load(self):
            return application

    _App().run()
    return 0
