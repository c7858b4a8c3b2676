"""``python -m examples.customer_console``: serve the customer console (a threaded server from the stdlib).

    python -m examples.customer_console --port 9000 \\
        --origin http://customers.corp.localhost:8080 --smishguard-origin http://auth.corp.localhost:8000

It listens on 127.0.0.1 only: it is meant to be reached through nginx and the gateway
(deploy/nginx-gateway.conf).  Under gunicorn instead, ``examples.customer_console.wsgi:application`` reads the
same settings from CUSTOMER_CONSOLE_ORIGIN, CUSTOMER_CONSOLE_SMISHGUARD_ORIGIN (and CUSTOMER_CONSOLE_JWKS_URL).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import RAW_HEADERS_KEY, CustomerConsole
from .assertion import JWKS_PATH, KeySet, Verifier


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, with each request's headers kept as received (for ``/debug/headers``) and, as gunicorn
    does, a header whose name has an underscore dropped (``Remote_User`` would otherwise become REMOTE_USER)."""

    def get_environ(self) -> dict:
        raw = list(self.headers.items())
        for name in {n for n, _ in raw if "_" in n}:
            del self.headers[name]
        environ = super().get_environ()
        environ[RAW_HEADERS_KEY] = raw
        return environ

    def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - the stdlib's signature
        # The path without its query string (no secret in a log), as smishguard's own log does.
        sys.stderr.write(f"{self.address_string()} {self.command} {self.path.split('?', 1)[0]} {args[1:2]}\n")


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.customer_console", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (default 9000)")
    parser.add_argument("--origin", required=True, help="this app's origin as browsers see it (the assertion's aud)")
    parser.add_argument("--smishguard-origin", required=True, help="smishguard's origin (the assertion's iss)")
    parser.add_argument(
        "--jwks-url", help=f"where to fetch smishguard's keys (default: the smishguard origin + {JWKS_PATH})"
    )
    parser.add_argument("--show-headers", action="store_true", help="serve GET /debug/headers (tests, demos)")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    origin = args.smishguard_origin.rstrip("/")
    keys = KeySet(args.jwks_url or origin + JWKS_PATH)
    verifier = Verifier(issuer=origin, audience=args.origin, keys=keys)
    app = CustomerConsole(verifier, show_headers=args.show_headers)
    with make_server("127.0.0.1", args.port, app, server_class=_ThreadingServer, handler_class=_Handler) as server:
        print(f"customer console: http://127.0.0.1:{args.port} (for {args.origin})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop quietly
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
