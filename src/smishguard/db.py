"""Database helpers below every app: the SQLite write gate that the hot paths' short write transactions share."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


class WriteGate:
    """Lets one short write transaction at a time into SQLite, across threads and worker processes: the sign-in
    path's and the rate-limit counters'.

    SQLite has one writer at a time; a writer that finds the lock taken is put to sleep by SQLite's busy
    handler for 1, 2, 5, 10, ... ms whether or not the lock is freed sooner, so short transactions from several
    gunicorn workers turn into long waits.  A blocking lock (a thread lock, then ``flock`` on a file beside the
    database) queues them instead and wakes the next one the moment the last commits.  Only an optimisation:
    SQLite's own locking still decides (other writers, like the CLI, do not take this lock).  Not taken inside
    a transaction that is already open (it may hold SQLite's lock: waiting here could only stall both).
    """

    def __init__(self) -> None:
        self._thread_lock = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}

    def _file(self) -> int | None:
        if connection.vendor != "sqlite" or connection.in_atomic_block or connection.is_in_memory_db():
            return None
        key = (os.getpid(), str(connection.settings_dict["NAME"]))
        fd = self._files.get(key)
        if fd is None:
            fd = self._files[key] = os.open(f"{key[1]}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
        return fd

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = self._file()
        if fd is None:
            yield
            return
        with self._thread_lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


one_writer = WriteGate()
