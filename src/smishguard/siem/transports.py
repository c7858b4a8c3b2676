"""The two ways a batch leaves: a TCP (or TLS) connection to a syslog receiver, and an HTTP(S) POST.

Syslog over TCP has no acknowledgement.  A batch is written on a connection of its own, which is then closed for
writing and read until the receiver closes its side too: a receiver that closes after our end has read every
message before it.  A connection refused or a failed handshake sends nothing (retried, no repeat); a connection
that breaks during or after the write may have delivered some of the batch (retried: those come again, with the
same ids).  A receiver that keeps its side open past ``CLOSE_WAIT`` is taken to have the batch (TCP delivered it).

HTTP: the batch is accepted when the answer is 2xx; anything else (a refused connection, a timeout, 4xx, 5xx) is a
failure to retry.  Redirects are not followed.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from smishguard.config import SiemStream
from smishguard.siem.errors import StreamFailed, TokenMissing

TIMEOUT = 10.0
CLOSE_WAIT = 3.0  # seconds a syslog receiver may take to close its side after ours
USER_AGENT = "smishguard-siem"


def tls_context(stream: SiemStream) -> ssl.SSLContext:
    """Verify the receiver's certificate and name against ``ca_file`` (else the system's CAs); TLS 1.2 or later."""
    context = ssl.create_default_context(cafile=stream.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def token(stream: SiemStream) -> str | None:
    """The stream's token, read when it is needed (so a rotated file is picked up); never logged."""
    if stream.token_env is not None:
        value = os.environ.get(stream.token_env, "")
        if not value.strip():
            raise TokenMissing(f"the environment variable {stream.token_env} (token_env) is not set")
    elif stream.token_file is not None:
        try:
            value = Path(stream.token_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise TokenMissing(f"cannot read token_file {stream.token_file}") from None
        if not value.strip():
            raise TokenMissing(f"token_file {stream.token_file} is empty")
    else:
        return None
    value = value.strip()
    if not value.isprintable():
        raise TokenMissing("the token holds a line break or a control character")
    return value


def send_syslog(stream: SiemStream, data: bytes, *, timeout: float = TIMEOUT) -> None:
    """Write ``data`` (octet-counted frames) on a new connection; see the module's text for what counts as sent."""
    where = f"{stream.host}:{stream.syslog_port}"
    try:
        raw = socket.create_connection((stream.host, stream.syslog_port), timeout=timeout)
    except OSError as exc:
        raise StreamFailed(f"cannot connect to {where}: {exc.strerror or type(exc).__name__}") from None
    sock: socket.socket = raw
    try:
        if stream.tls:
            try:
                sock = tls_context(stream).wrap_socket(raw, server_hostname=stream.host)
            except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
                raise StreamFailed(f"TLS handshake with {where} failed: {exc}") from None
        try:
            sock.sendall(data)
        except OSError as exc:
            raise StreamFailed(f"the connection to {where} broke while sending: {type(exc).__name__}") from None
        _close_and_wait(sock, where)
    finally:
        sock.close()


def _close_and_wait(sock: socket.socket, where: str) -> None:
    """Close our side for writing (TLS: close_notify) and read until the receiver closes: it has read it all.
    A receiver that keeps its side open is waited for ``CLOSE_WAIT`` seconds, then taken to have the batch."""
    sock.settimeout(CLOSE_WAIT)
    try:
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock = sock.unwrap()
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                return  # the receiver closed the connection after our close_notify
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    except TimeoutError:
        return  # still open: TCP delivered the batch, and nothing broke
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as exc:
        raise StreamFailed(f"the connection to {where} broke after sending: {type(exc).__name__}") from None
    except OSError as exc:
        raise StreamFailed(f"the connection to {where} broke after sending: {exc.strerror or exc}") from None


def post(stream: SiemStream, body: bytes, *, key: str, timeout: float = TIMEOUT) -> int:
    """POST ``body`` (JSON lines) to the stream's URL; returns the 2xx status or raises ``StreamFailed``."""
    parts = urlsplit(stream.url)
    where = stream.target
    headers = {
        "Content-Type": "application/json" if stream.format == "hec" else "application/x-ndjson",
        "Idempotency-Key": key,
        "User-Agent": USER_AGENT,
    }
    secret = token(stream)
    if secret is not None:
        headers["Authorization"] = f"Splunk {secret}" if stream.format == "hec" else f"Bearer {secret}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=tls_context(stream)
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(65536)
            status = response.status
        finally:
            connection.close()
    except ValueError:  # a malformed URL: its message may quote the URL, which may hold a secret
        raise StreamFailed(f"POST to {where} failed: invalid URL") from None
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise StreamFailed(f"POST to {where} failed: {reason}") from None
    if not 200 <= status < 300:
        raise StreamFailed(f"POST to {where} answered HTTP {status}")
    return status
