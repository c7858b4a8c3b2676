"""What ``smishguard serve`` runs inside gunicorn: its worker class, its WAL checkpointer and its access logger."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback

from gunicorn.glogging import Logger
from gunicorn.http.body import LengthReader
from gunicorn.workers.sync import SyncWorker as _SyncWorker

from smishguard.redaction import RedactSecretsFilter, redact_path

# The access log's line: the path without its query string (/api/blocklists/* accept ?token= for resolvers
# that cannot send a header, and no secret may reach a log), and with an enrolment link's token redacted
# (smishguard.redaction.redact_path: /enrol/<token> -> /enrol/[redacted]).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

# How often each worker's checkpointer copies the SQLite WAL back into the database (see checkpoint_wal).
CHECKPOINT_INTERVAL = 0.5

log = logging.getLogger(__name__)


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

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # gunicorn's own error lines can name a request's URI ("Error handling request /enrol/<token>").
        if not any(isinstance(f, RedactSecretsFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactSecretsFilter())

    def access(self, resp, req, environ, request_time):  # noqa: ARG002 - gunicorn's signature
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        try:
            line = ACCESS_LOG_FORMAT % {
                "h": environ.get("REMOTE_ADDR", "-"),
                "t": self.now(),
                "m": environ.get("REQUEST_METHOD", "-"),
                "U": redact_path(environ.get("PATH_INFO", "-")),
                "H": environ.get("SERVER_PROTOCOL", "-"),
                "s": status,
                "b": "-" if sent is None else str(sent),
                "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            }
            handlers = self.access_log.handlers
            if len(handlers) == 1 and type(handlers[0]) is logging.StreamHandler:
                handler = handlers[0]
                handler.acquire()
                try:
                    handler.stream.write(line + "\n")
                    handler.stream.flush()
                finally:
                    handler.release()
            else:
                self.access_log.info(line)
        except Exception:  # noqa: BLE001 - as gunicorn's own access(): a log line never fails a request
            self.error(traceback.format_exc())
