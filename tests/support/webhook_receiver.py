"""A real HTTP webhook receiver on 127.0.0.1 for tests of outgoing alerts (a chat hook stands behind it)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Records each POST (its JSON body and headers) and answers with the given statuses in turn, then 200.

    ``with WebhookReceiver() as hook: ... hook.url ... hook.received``
    """

    def __init__(self, statuses: tuple[int, ...] | list[int] = ()) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.raw: list[bytes] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.raw.append(body)
                outer.received.append((json.loads(body), dict(self.headers)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                outer.arrived.set()

            def log_message(self, *args: Any) -> None:  # quiet: the tests assert on ``received``
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret-part"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
