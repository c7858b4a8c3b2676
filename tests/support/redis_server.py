"""A real, throw-away redis-server for tests: on 127.0.0.1, a free port, a temporary folder, no persistence.

``redis_server`` (a pytest fixture) starts one for a test and stops it after; ``stop()`` and ``start()`` let a
test take Redis away and bring it back on the same port.  The binary is Debian's redis-server (scripts/install
--test installs it): a missing binary is a failure that says so, never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from certs import throwaway_ca
from servers import free_port
from waiting import wait_until


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """``tls=True``: TLS only (rediss://, no plain-text port), a certificate for localhost from a throw-away CA."""

    def __init__(self, folder: Path, password: str | None = None, *, tls: bool = False) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise AssertionError("redis-server is not installed: run scripts/install --test (Debian's redis-server)")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.password = password
        self.ca = throwaway_ca(folder)[0] if tls else None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.ca is not None:
            return f"rediss://{auth}localhost:{self.port}/0?ssl_ca_certs={self.ca}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        if self.ca is not None:
            argv[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            argv += [
                "--tls-cert-file",
                str(self.folder / "server.pem"),
                "--tls-key-file",
                str(self.folder / "server.key"),
            ]
            argv += ["--tls-ca-cert-file", str(self.ca), "--tls-auth-clients", "no"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        if self.password:
            argv += ["--requirepass", self.password]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.password or self.ca is not None:  # an unauthenticated or plain PING is refused: wait for the port
            wait_until(self._listening, "redis-server to listen", process=self.process)
        else:
            wait_until(lambda: _answers(self.port), "redis-server to answer PING", process=self.process)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None
        wait_until(lambda: not self._listening(), "redis-server's port to close")


@pytest.fixture
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def with_redis(settings, redis_server: RedisServer) -> RedisServer:
    """This process's rate-limit counters in ``redis_server`` (as production mode configures them); the server."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "smishguard.ratelimits.redis_cache.FailoverCounterCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "smishguard",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        },
    }
    return redis_server
