"""What ``smishguard serve`` runs inside gunicorn: its worker class, its WAL checkpointer and its access logger."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator

from gunicorn.glogging import Logger
from gunicorn.http.body import LengthReader
from gunicorn.workers.sync import SyncWorker as _SyncWorker

from smishguard import config
from smishguard.logs import REQUEST_FIELDS, REQUEST_ID_KEY, JsonFormatter, iso_time, json_line
from smishguard.redaction import RedactSecretsFilter, redact_path

# The access log's line: the path without its query string (/api/blocklists/* accept ?token= for resolvers
# that cannot send a header, and no secret may reach a log), and with an enrolment link's token and a tracked
# link's rid redacted (smishguard.redaction.redact_path: /enrol/<token> -> /enrol/[redacted], /s/<rid> ->
# /s/[redacted]).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

# How often each worker's checkpointer copies the SQLite WAL back into the database (see checkpoint_wal).
CHECKPOINT_INTERVAL = 0.5

log = logging.getLogger(__name__)


@contextlib.contextmanager
def multiprocess_metrics() -> Iterator[str]:
    """A fresh folder for prometheus-client's multiprocess mode, for one ``smishguard serve``: set as
    PROMETHEUS_MULTIPROC_DIR before anything imports prometheus-client (it picks its mode at import), so each
    gunicorn worker counts into files of its own there and a scrape adds them all up (smishguard.metrics).
    Under systemd's ``RuntimeDirectory=`` it is made there, else in the temporary folder; removed when the server
    stops (by the process that made it: a gunicorn worker leaves through the same frames)."""
    owner = os.getpid()
    runtime = (os.environ.get("RUNTIME_DIRECTORY") or "").split(":")[0] or None
    path = tempfile.mkdtemp(prefix="smishguard-metrics-", dir=runtime)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    try:
        yield path
    finally:
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == path:
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def child_exit(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """gunicorn's ``child_exit`` hook: what prometheus-client's multiprocess mode asks of a server whose workers
    die (it drops the dead worker's live gauges; its counters stay counted)."""
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def on_reload(arbiter) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """gunicorn's ``on_reload`` hook (SIGHUP), in the master before it forks the new workers: read the route
    policy again (smishguard.gateway.reload); the new workers inherit it."""
    from smishguard.gateway.reload import reload_policy

    reload_policy()


def worker_cpu(age: int, allowed: set[int]) -> int:
    """The CPU for the worker spawned ``age``-th (gunicorn counts from 1): the allowed CPUs in turn."""
    cpus = sorted(allowed)
    return cpus[(age - 1) % len(cpus)]


def checkpoint_wal(interval: float, *, rounds: int | None = None) -> None:
    """Copy the SQLite WAL back into the database every ``interval`` seconds, on this thread's own connection.

    SQLite checkpoints by itself inside the commit that takes the WAL past ``wal_autocheckpoint`` pages: that
    commit then writes every page back and waits for two fsyncs (a tenth of a second or more) while it still
    holds the sign-in write gate (``smishguard.db.one_writer``), so the other worker waits too and both
    CPUs stand idle. A passive checkpoint on another connection takes no write lock: writers go on, the fsyncs
    wait on this thread (which holds no GIL meanwhile), and the WAL stays short enough that the commit-time
    checkpoint is only a backstop. Does nothing on PostgreSQL or an in-memory database. ``rounds`` ends the loop
    (for tests). A failed round is logged, and the wait before the next one doubles with each failure in a row,
    up to a minute, so a database that stays broken does not flood the log.
    """
    from django.db import connection

    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    done = 0
    wait = interval
    while rounds is None or done < rounds:
        time.sleep(wait)
        done += 1
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            wait = interval
        except Exception:  # the worker's requests must not depend on this thread
            wait = min(wait * 2, 60.0)
            log.exception("WAL checkpoint failed; trying again in %s s", wait)


def read_whole(req) -> bool:
    """Whether the request's body (if any) has all been taken from the connection."""
    body = getattr(req, "body", None)
    reader = getattr(body, "reader", None)
    return isinstance(reader, LengthReader) and reader.length == 0


def nothing_waiting(client: socket.socket) -> bool:
    """Whether the kernel holds no unread bytes from the client (a non-blocking peek finds none)."""
    try:
        return not client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False


class SyncWorker(_SyncWorker):
    """gunicorn's sync worker, pinned to one CPU, with a WAL checkpointer, each connection corked and closed at once
    when it can be.

    The checkpointer (``checkpoint_wal``) is a daemon thread each worker starts, with its own connection.

    Pinned (what nginx's ``worker_cpu_affinity auto`` does): each worker stays on one CPU of those the server
    may use, the workers in turn, so its caches stay warm between requests instead of the scheduler moving it
    to whichever CPU a client just left (about a tenth more sign-ins per second on two CPUs; see
    docs/benchmarks.md). ``smishguard serve --no-pin`` leaves placement to the scheduler.

    Corked (what nginx's ``tcp_nopush`` does): a sync worker answers one request per connection and then shuts the
    connection down. gunicorn sends the status line and headers, then the body, each with its own ``send``; with
    TCP_NODELAY on (gunicorn sets it), each leaves as a segment of its own and wakes the client for half a response.
    Corked, the kernel holds partial segments until the shutdown that ends the response, so a small response and its
    FIN leave together. Full segments of a large or streamed response still leave as soon as they fill, and the
    kernel sends a held partial segment after 200 ms at the latest.

    Closed at once when it can be (what nginx's ``lingering_close on`` does): gunicorn ends every connection by
    sending its FIN and then waiting, up to 2 s, for the client's, reading and dropping whatever the client still
    sends, so that closing a socket with unread bytes does not make the kernel answer with a reset that can
    destroy the response before the client reads it. Only a request whose body was not all read can leave such
    bytes; for any other the wait holds the worker idle until the client has been scheduled, read the response
    and closed (15% of a worker's time under load, sampled with py-spy). So when the request's body was read
    whole and nothing unread waits on the socket, the connection is closed right after the response (the kernel
    still sends the response, then the FIN); otherwise gunicorn's lingering close runs as before.
    """

    pin = True

    def init_process(self) -> None:
        if self.pin and hasattr(os, "sched_setaffinity"):
            allowed = os.sched_getaffinity(0)
            if len(allowed) > 1:
                os.sched_setaffinity(0, {worker_cpu(self.age, allowed)})
        threading.Thread(target=checkpoint_wal, args=(CHECKPOINT_INTERVAL,), name="wal-checkpoint", daemon=True).start()
        super().init_process()

    def handle(self, listener, client, addr):
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        return super().handle(listener, client, addr)

    def handle_request(self, listener, req, client, addr):
        super().handle_request(listener, req, client, addr)
        if read_whole(req) and nothing_waiting(client):
            # gunicorn's close_graceful(), which runs next, returns when shutdown() fails on the closed socket
            # (gunicorn 27; check again on an upgrade).
            client.close()


class UnpinnedSyncWorker(SyncWorker):
    """The same worker, placed by the scheduler (``smishguard serve --no-pin``)."""

    pin = False


class AccessLogger(Logger):
    """gunicorn's logger, writing the access line of ACCESS_LOG_FORMAT more cheaply.

    gunicorn builds a table of every request header, response header and environ variable for each line, and
    then goes through ``logging`` (a LogRecord, the caller's frame looked up, a formatter) to print
    ``%(message)s``; together about a tenth of a worker's time on the sign-in endpoints. This formats the line
    from the few values it shows and, when the access log is the plain stream ``smishguard serve`` sets up,
    writes it to that stream directly (flushed, so each line appears at once); any other handler still gets
    it through ``logging``.
    """

    json = False  # SMISHGUARD_LOG_FORMAT=json: every line a JSON object (smishguard.logs)

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # gunicorn's own error lines can name a request's URI ("Error handling request /enrol/<token>").
        if not any(isinstance(f, RedactSecretsFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactSecretsFilter())
        self.json = config.log_format() == "json"
        if self.json:
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                handler.setFormatter(JsonFormatter())

    def json_access_fields(self, environ, request_time, status, sent) -> dict:
        """The access line as a JSON object: the request's fields, the client as smishguard.clientaddr decides."""
        method = environ.get("REQUEST_METHOD", "-")
        path = redact_path(environ.get("PATH_INFO", "-"))
        with contextlib.suppress(TypeError, ValueError):
            status = int(status)
        try:
            from smishguard.clientaddr import client_ip_from_meta

            client = client_ip_from_meta(environ)
        except Exception:  # noqa: BLE001 - Django not set up (a request refused before the app): the peer
            client = environ.get("REMOTE_ADDR")
        return {
            "time": iso_time(time.time()),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{method} {path} {status}",
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "client": client,
            "request_id": environ.get(REQUEST_ID_KEY),
            "bytes": sent,
        }

    def access(self, resp, req, environ, request_time):  # noqa: ARG002 - gunicorn's signature
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        try:
            fields = self.json_access_fields(environ, request_time, status, sent) if self.json else None
            line = json_line(fields) if fields else self._text_access_line(environ, request_time, status, sent)
            handlers = self.access_log.handlers
            if len(handlers) == 1 and type(handlers[0]) is logging.StreamHandler:
                handler = handlers[0]
                handler.acquire()
                try:
                    handler.stream.write(line + "\n")
                    handler.stream.flush()
                finally:
                    handler.release()
            elif fields:  # another handler: the fields as the record's, its JsonFormatter writes them
                extra = {name: fields[name] for name in REQUEST_FIELDS if name in fields}
                self.access_log.info(fields["message"], extra=extra)
            else:
                self.access_log.info(line)
        except Exception:  # noqa: BLE001 - as gunicorn's own access(): a log line never fails a request
            self.error(traceback.format_exc())

    def _text_access_line(self, environ, request_time, status, sent) -> str:
        return ACCESS_LOG_FORMAT % {
            "h": environ.get("REMOTE_ADDR", "-"),
            "t": self.now(),
            "m": environ.get("REQUEST_METHOD", "-"),
            "U": redact_path(environ.get("PATH_INFO", "-")),
            "H": environ.get("SERVER_PROTOCOL", "-"),
            "s": status,
            "b": "-" if sent is None else str(sent),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
        }
