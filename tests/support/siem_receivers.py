"""Real SIEM receivers on 127.0.0.1 for the streaming tests: a syslog receiver (RFC 6587 octet-counted frames over
TCP, or TLS with a throw-away CA made here with ``cryptography``) and an HTTP receiver (JSON lines, Splunk HEC or
plain).  Each keeps its port when stopped and started again, as a restarted SIEM would, and keeps what it received
across restarts."""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from certs import throwaway_ca
from servers import free_port


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    return throwaway_ca(folder, "smishguard test SIEM CA")


class _Restartable:
    """start() and stop() as often as a test likes, on one port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: socketserver.BaseServer | None = None
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def _make_server(self) -> socketserver.BaseServer:
        raise NotImplementedError

    def start(self) -> None:
        assert self.server is None, "already running"
        self.server = self._make_server()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        assert self.server is not None, "not running"
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.stop()


class SyslogReceiver(_Restartable):
    """Reads octet-counted syslog frames (RFC 6587 3.4.1) until the client closes; keeps each message's text."""

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.connections = 0
        self.reset_next = 0  # this many connections are reset (RST) once read: a connection broken after the send
        self.context = None
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(str(tls[0]), str(tls[1]))

    def _make_server(self) -> socketserver.BaseServer:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock = self.request
                if outer.context is not None:
                    sock = outer.context.wrap_socket(sock, server_side=True)
                outer.connections += 1
                stream = sock.makefile("rb")
                while True:
                    length = b""
                    while (ch := stream.read(1)) not in (b" ", b""):
                        length += ch
                    if not length:
                        break
                    message = stream.read(int(length))
                    with outer.lock:
                        outer.messages.append(message.decode("utf-8"))
                stream.close()
                with outer.lock:
                    reset, outer.reset_next = outer.reset_next > 0, max(0, outer.reset_next - 1)
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                    return
                if isinstance(sock, ssl.SSLSocket):
                    with contextlib.suppress(ssl.SSLError, OSError):
                        sock.unwrap()

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        return Server(("127.0.0.1", self.port), Handler)


class HttpReceiver(_Restartable):
    """Records each POST (its body and headers) and answers 200 (or the statuses given, in turn)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.statuses = list(statuses)
        self.posts: list[tuple[bytes, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/collector/event"

    def _make_server(self) -> socketserver.BaseServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    if 200 <= status < 300:
                        outer.posts.append((body, dict(self.headers)))
                reply = b'{"text":"Success","code":0}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True

        return Server(("127.0.0.1", self.port), Handler)


# --- RFC 5424 -------------------------------------------------------------------------------------------------

_HEADER = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<version>[1-9]\d{0,2}) (?P<timestamp>\S+) (?P<hostname>[!-~]{1,255}) "
    r"(?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) "
)
_TIMESTAMP = re.compile(r"-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_SD_NAME = re.compile(r"[!#-<>-\\^-~]{1,32}")  # PRINTUSASCII except '=', SP, ']', '"'


def parse_rfc5424(message: str) -> dict[str, Any]:
    """Parse one RFC 5424 SYSLOG-MSG strictly (header fields, structured data with its escapes); raise
    AssertionError naming what is wrong."""
    match = _HEADER.match(message)
    assert match, f"not an RFC 5424 header: {message[:80]!r}"
    assert int(match["pri"]) <= 191, "PRI above 191"
    assert _TIMESTAMP.fullmatch(match["timestamp"]), f"bad TIMESTAMP {match['timestamp']!r}"
    rest = message[match.end() :]
    elements: dict[str, dict[str, str]] = {}
    if rest.startswith("-"):
        rest = rest[1:]
    else:
        assert rest.startswith("["), "no STRUCTURED-DATA"
        while rest.startswith("["):
            end = re.match(r"\[([^ \]]+)", rest)
            assert end, f"no SD-ID in {rest[:40]!r}"
            assert _SD_NAME.fullmatch(end[1]), f"bad SD-ID in {rest[:40]!r}"
            sd_id, rest, params = end[1], rest[end.end() :], {}
            while rest.startswith(" "):
                name = re.match(r' ([^= \]"]{1,32})="', rest)
                assert name, f"bad SD-PARAM in {rest[:40]!r}"
                rest = rest[name.end() :]
                value, i = [], 0
                while rest[i] != '"':
                    if rest[i] == "\\" and rest[i + 1] in '"\\]':
                        value.append(rest[i + 1])
                        i += 2
                    else:
                        assert rest[i] != "]", "an unescaped ] in a PARAM-VALUE"
                        value.append(rest[i])
                        i += 1
                params[name[1]] = "".join(value)
                rest = rest[i + 1 :]
            assert rest.startswith("]"), f"SD-ELEMENT not closed: {rest[:40]!r}"
            rest = rest[1:]
            elements[sd_id] = params
    msg = None
    if rest:
        assert rest.startswith(" "), "no SP before MSG"
        msg = rest[1:]
    return {**match.groupdict(), "sd": elements, "msg": msg}
