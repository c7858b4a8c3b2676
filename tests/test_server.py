"""`smishguard serve`: gunicorn with smishguard's worker (pinned, corked) and access logger, run for real."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import sqlite3
import struct
import termios
import threading
import urllib.error
import urllib.request
from pathlib import Path

import modes
import pytest
from servers import clean_env, django_eval, free_port, serve, smishguard, stop, wait_for
from waiting import BOUND, wait_until

from smishguard.server import checkpoint_wal, nothing_waiting, worker_cpu

ACCESS_LINE = re.compile(r'^127\.0\.0\.1 \[[^\]]+\] "(GET|POST) (\S+) HTTP/1\.1" (\d{3}) (\d+|-) (\d+)ms$')


@pytest.mark.parametrize(
    ("allowed", "ages", "expected"),
    [
        ({0, 1}, [1, 2, 3, 4], [0, 1, 0, 1]),
        ({2, 5, 7}, [1, 2, 3, 4], [2, 5, 7, 2]),
        ({3}, [1, 2], [3, 3]),
    ],
)
def test_workers_take_the_allowed_cpus_in_turn(allowed, ages, expected):
    assert [worker_cpu(age, allowed) for age in ages] == expected


def test_nothing_waiting_tells_unread_bytes_from_none():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert nothing_waiting(ours)
        theirs.sendall(b"more")
        assert not nothing_waiting(ours)
        assert ours.recv(10) == b"more"  # the peek took nothing
        theirs.close()
        assert nothing_waiting(ours)  # only the peer's end of stream


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _serve(tmp_path: Path, *extra: str, sqlite: bool = False):
    env = clean_env(tmp_path / "var", sqlite=sqlite)
    smishguard(env, "migrate")
    port = free_port()
    out = tmp_path / "serve.out"
    process = serve(env, port, workers=2, log=out, extra=extra)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/api/me")
    wait_until(lambda: len(_children(process.pid)) >= 2, "gunicorn's two workers", process=process)
    return process, url, out


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - loopback test server
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_pins_each_worker_to_its_own_cpu(tmp_path):
    allowed = os.sched_getaffinity(0)
    process, _, _ = _serve(tmp_path)
    try:
        workers = _children(process.pid)
        assert len(workers) == 2
        if len(allowed) >= 2:  # a worker pins itself as it starts: wait for both to have done so
            wait_until(
                lambda: all(len(os.sched_getaffinity(pid)) == 1 for pid in workers),
                "both workers pinned",
                process=process,
            )
        placed = [os.sched_getaffinity(pid) for pid in workers]
    finally:
        stop(process)
    if len(allowed) >= 2:
        assert all(len(cpus) == 1 for cpus in placed), placed
        assert placed[0] != placed[1], "two workers on two or more CPUs should not share one"
        assert set().union(*placed) <= allowed
    else:  # one CPU: nothing to choose
        assert placed == [allowed, allowed]


def test_serve_no_pin_leaves_placement_to_the_scheduler(tmp_path):
    allowed = os.sched_getaffinity(0)
    process, _, _ = _serve(tmp_path, "--no-pin")
    try:
        placed = [os.sched_getaffinity(pid) for pid in _children(process.pid)]
    finally:
        stop(process)
    assert placed == [allowed, allowed]


def test_serve_answers_small_and_large_responses_whole_and_logs_paths_without_query_strings(tmp_path):
    process, url, out = _serve(tmp_path)
    try:
        status, body = _get(url + "/api/me")
        assert status == 401
        assert json.loads(body)["error"]["code"] == "not_authenticated"
        # Larger than a TCP segment: the corked socket still sends all of it.
        status, body = _get(url + "/api/openapi.json")
        assert status == 200
        assert len(body) > 20_000
        assert "/api/webauthn/login/verify" in json.loads(body)["paths"]
        status, _ = _get(url + "/api/blocklists/rpz?token=sg_not-a-real-token-0123456789")
        assert status == 401
        wait_until(lambda: "/api/blocklists/rpz" in out.read_text(), "the third request's access line", process=process)
    finally:
        stop(process)
    log = out.read_text()
    assert "not-a-real-token" not in log
    lines = [m.groups() for m in map(ACCESS_LINE.match, log.splitlines()) if m]
    assert [(method, path, status) for method, path, status, _, _ in lines[-3:]] == [
        ("GET", "/api/me", "401"),
        ("GET", "/api/openapi.json", "200"),
        ("GET", "/api/blocklists/rpz", "401"),
    ]
    assert int(lines[-2][3]) > 20_000  # bytes sent


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8  # Linux's tcp_states.h


def _tcp_state(conn: socket.socket) -> int:
    return conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def _unacknowledged(conn: socket.socket) -> int:
    """Bytes we sent that the peer's kernel has not acknowledged yet (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def _held_request(url: str, request: bytes) -> tuple[socket.socket, bytes]:
    """Send ``request`` on a new connection and read the response to the server's end; leave our side open."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(request)
    reply = b""
    while chunk := conn.recv(65536):
        reply += chunk
    return conn, reply


def test_a_worker_is_free_again_once_it_has_answered_without_waiting_for_the_client_to_close(tmp_path):
    # gunicorn's own close sends its FIN and then waits up to 2 s for the client's, reading and dropping whatever
    # the client sends meanwhile: the worker is held by a client that keeps its end open.  smishguard's worker
    # closes the socket once it has answered.  A byte sent after the response tells the two apart without a
    # clock: a closed socket's kernel answers it with a reset; a lingering worker reads and drops it, and closes
    # later with nothing unread, so no reset ever comes.
    process, url, _ = _serve(tmp_path)
    held = []
    try:
        for _ in range(5):
            conn, reply = _held_request(url, b"GET /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            held.append(conn)
            assert reply.startswith(b"HTTP/1.1 401 ")
            assert b'"not_authenticated"' in reply
            assert reply.endswith(b"\r\n0\r\n\r\n")  # the whole (chunked) response, then the server's FIN
            conn.sendall(b"x")
            wait_until(
                lambda conn=conn: _tcp_state(conn) == TCP_CLOSE,
                "a reset for a byte sent after the response (the worker still held the connection: it waited for "
                "the client to close)",
            )
    finally:
        for conn in held:
            conn.close()
        stop(process)


def test_a_request_whose_body_was_not_read_still_gets_a_lingering_close(tmp_path):
    # Refused (413) before its body is read: bytes of that body arriving after the response are read and dropped
    # by the server, not answered with a reset (which can destroy a response the client has not read yet).
    process, url, _ = _serve(tmp_path)
    try:
        conn, reply = _held_request(
            url,
            b"POST /api/webauthn/login/options HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000000\r\nConnection: close\r\n\r\n",
        )
        assert reply.startswith(b"HTTP/1.1 413 ")
        assert b'"body_too_large"' in reply
        try:
            # The server's kernel answers these bytes: an acknowledgement while the worker lingers, reading and
            # dropping them; a reset had it closed the socket.
            conn.sendall(b"x" * 1000)
            wait_until(
                lambda: _unacknowledged(conn) == 0 or _tcp_state(conn) == TCP_CLOSE, "the server's answer to the bytes"
            )
            assert _tcp_state(conn) == TCP_CLOSE_WAIT, "the bytes after the response were answered with a reset"
            assert conn.recv(10) == b""  # still only the server's FIN
        finally:
            conn.close()
    finally:
        stop(process)


def _rows_in_database_file(database: Path, table: str, tmp_path: Path) -> int:
    """Rows of ``table`` in the database file alone: what a checkpoint has copied there, not what is in the WAL."""
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(database, copy)
    with sqlite3.connect(f"file:{copy}?immutable=1", uri=True) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_serve_copies_the_wal_back_into_the_database_in_the_background(tmp_path):
    # SQLite's own checkpoint waits for 10,000 pages of WAL; a few requests' writes reach the database file only
    # through the workers' checkpointer threads.
    process, url, _ = _serve(tmp_path, sqlite=True)  # SQLite's WAL, in either mode: on a SQLite file
    database = tmp_path / "var" / "smishguard.sqlite3"
    try:
        before = _rows_in_database_file(database, "passkeys_challenge", tmp_path)
        body = json.dumps({"email": "nobody@example.com"}).encode()
        for _ in range(3):  # an unknown email gets a challenge all the same (nobody can list accounts)
            request = urllib.request.Request(  # noqa: S310 - loopback test server
                url + "/api/webauthn/login/options", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback test server
                assert reply.status == 200
        wait_until(
            lambda: _rows_in_database_file(database, "passkeys_challenge", tmp_path) >= before + 3,
            "the three challenges in the database file",
            process=process,
        )
    finally:
        stop(process)


def test_the_checkpointer_copies_the_wal_into_the_database_file_each_round(tmp_path):
    # In a process of its own on a database file (a test's database is in memory); the process's own connection
    # stays open, so nothing else checkpoints meanwhile.
    code = (
        "import shutil, sqlite3\nfrom django.conf import settings\nfrom django.db import connection\n"
        "from smishguard.server import checkpoint_wal\n"
        "path = settings.DATABASES['default']['NAME']\n"
        "def rows():\n"
        "    shutil.copyfile(path, path + '.copy')\n"
        "    with sqlite3.connect('file:' + path + '.copy?immutable=1', uri=True) as db:\n"
        "        return db.execute('SELECT count(*) FROM sg_probe').fetchone()[0]\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE sg_probe (x)')\n"
        "    c.execute('PRAGMA wal_checkpoint(PASSIVE)')\n"
        "    c.execute('INSERT INTO sg_probe VALUES (1), (2)')\n"
        "before = rows()\n"
        "checkpoint_wal(0.01, rounds=1)\n"
        "print(before, rows())\n"
    )
    # SQLite's WAL, in either mode: on a SQLite file
    assert django_eval(clean_env(tmp_path / "var", sqlite=True), code).split() == ["0", "2"]


@pytest.mark.django_db
def test_the_checkpointer_does_nothing_on_an_in_memory_database():
    # The test run's database is in memory (a new thread's connection too), or in postgres mode PostgreSQL: the
    # loop must not even start.
    from django.db import connection

    if modes.POSTGRES:
        assert connection.vendor == "postgresql"
    else:
        assert connection.is_in_memory_db()
    runner = threading.Thread(target=checkpoint_wal, args=(0.01,), daemon=True)
    runner.start()
    runner.join(timeout=BOUND)  # a bound for a busy machine: the loop, had it started, would never end
    assert not runner.is_alive()


def test_a_failing_checkpointer_logs_each_failure_and_doubles_its_wait(tmp_path):
    # The connection is pointed at a database in a folder that does not exist: every round fails, is logged,
    # and the next waits twice as long (up to a minute).
    code = (
        "import logging, os\nfrom django.db import connection\nfrom smishguard import server\n"
        "waits = []\n"
        "class Catch(logging.Handler):\n"
        "    def emit(self, record):\n"
        "        waits.append(record.args[0])\n"
        "server.log.addHandler(Catch())\n"
        "server.log.propagate = False\n"
        "name = connection.settings_dict['NAME']\n"
        "connection.settings_dict['NAME'] = os.path.join(os.path.dirname(name), 'missing', 'db.sqlite3')\n"
        "server.checkpoint_wal(0.01, rounds=4)\n"
        "print(waits)\n"
    )
    # the checkpointer of SQLite's WAL, in either mode: on a SQLite file
    assert django_eval(clean_env(tmp_path / "var", sqlite=True), code).strip() == "[0.02, 0.04, 0.08, 0.16]"
