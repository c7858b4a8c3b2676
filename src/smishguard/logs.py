"""Log lines as JSON objects (``SMISHGUARD_LOG_FORMAT=json``), and the request id that ties a request's lines.

* :class:`JsonFormatter` — one JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
  ``message``; for a line about a request also ``method``, ``path`` (never the query string), ``status``,
  ``duration_ms``, ``client`` (the address smishguard.clientaddr decides) and ``request_id``; ``exception`` with
  the traceback when there is one.  Every text goes through smishguard.redaction first (enrolment tokens,
  tracked links' rids, token-like query values), so the JSON format leaks no more than the text one.
  settings.LOGGING uses it for Django's and smishguard's loggers, ``smishguard serve`` for gunicorn's error log,
  and smishguard.server's access logger writes its own lines with :func:`json_line`.
* :class:`RequestIdMiddleware` — first in settings.MIDDLEWARE: gives each request an id (the trusted proxy's
  ``X-Request-ID`` when it sends a well-formed one, else a new random one), keeps it in ``request.META`` (the WSGI
  environ, where the access logger finds it) and in a context variable (where the formatter finds it for the
  lines logged while the request runs), and answers with it in ``X-Request-ID``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from smishguard.clientaddr import client_ip_from_meta, peer_is_trusted
from smishguard.redaction import redact_path, redact_text

REQUEST_ID_KEY = "smishguard.request_id"  # in request.META (the WSGI environ)
REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("smishguard_request_id", default=None)

# LogRecord attributes a caller may set (``extra=``) that the JSON line carries as fields of their own.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "client", "request_id", "bytes")


def iso_time(timestamp: float) -> str:
    """A POSIX timestamp as ISO 8601 in UTC, to the millisecond: ``2026-12-06T23:44:07.123Z``."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(fields: dict[str, Any]) -> str:
    """One log line: the fields as a compact JSON object (anything not JSON as its ``str``)."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format still becomes a line
            message = f"{record.msg!r} (its arguments did not format)"
        fields: dict[str, Any] = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(message),
        }
        request = getattr(record, "request", None)  # Django's request loggers pass the request
        if isinstance(request, HttpRequest):
            fields["method"] = request.method
            fields["path"] = redact_path(request.path)
            fields["client"] = client_ip_from_meta(request.META)
            request_id = request.META.get(REQUEST_ID_KEY)
            if request_id:
                fields["request_id"] = request_id
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            fields["status"] = status
        for name in REQUEST_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                fields[name] = redact_path(value) if name == "path" else value
        if "request_id" not in fields:
            request_id = current_request_id.get()
            if request_id:
                fields["request_id"] = request_id
        if record.exc_info:
            fields["exception"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            fields["exception"] = redact_text(record.exc_text)
        if record.stack_info:
            fields["stack"] = redact_text(self.formatStack(record.stack_info))
        return json_line(fields)


def request_id_for(meta: dict[str, Any], trusted_peer: bool) -> str:
    """The trusted proxy's X-Request-ID when well formed (nginx's ``$request_id``), else a new random id."""
    if trusted_peer:
        given = meta.get("HTTP_X_REQUEST_ID", "")
        if given and _WELL_FORMED_ID.fullmatch(given):
            return given
    return secrets.token_hex(8)


class RequestIdMiddleware:
    """First in MIDDLEWARE: every request gets an id, in its log lines and in the response's X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.META, peer_is_trusted(request))
        request.META[REQUEST_ID_KEY] = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
