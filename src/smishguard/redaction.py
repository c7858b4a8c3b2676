"""What a log line or an audit row may show of a secret: nothing.

* ``redact_path`` — a request path (with or without its query string) as a log may show it: the enrolment token
  in ``/enrol/<token>``, a simulation recipient's tracking token in ``/s/<rid>`` (and ``/s/<rid>/lesson``) and the
  value of any token-like query parameter (``token``, ``access_token``, ``key``, ``secret``, ``sig``, ``code``,
  ...) become ``[redacted]``.  ``smishguard serve``'s access log and the logging filter below use it;
  deploy/nginx.conf does the same with a ``map``.
* ``redact_url`` — an outgoing webhook URL (a chat hook's URL is its secret) as ``scheme://host/…``: never its
  path, query or user info.  Logs and audit rows name a webhook only this way.
* ``redact_credentials`` — a service URL (``redis://``, ``rediss://``, ``postgresql://``) with its password
  replaced by ``[redacted]`` (and any token-like query value): what a log line or `smishguard doctor` shows.
* ``RedactSecretsFilter`` — a ``logging.Filter`` that runs ``redact_text`` over a record's message, set on
  Django's request loggers (``django.request``'s "Not Found: /enrol/..." lines, ``django.server``) and on the
  console handler in settings.LOGGING.

Pure Python (no Django), so any layer may use it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

REDACTED = "[redacted]"

# Paths whose next segment is a secret (a single-use link's token), wherever they appear in a line.
SECRET_SEGMENTS = ("enrol",)
# Paths whose next segment is a secret only at the root of a path (a tracked link's rid: /s/<rid>): a segment this
# short is matched only at the start of a line, after a space, a quote, "=" or "(", or right after a URL's host,
# so that /static/s/..., /api/x/s/... and the like are left alone.
SECRET_ROOT_SEGMENTS = ("s",)
# Query parameters whose value is a secret (compared case-insensitively).
SECRET_PARAMS = (
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "client_secret",
    "password",
    "sig",
    "signature",
    "code",
    "state",
)

_SEGMENT = re.compile(r"(/(?:%s)/)[^/?#\s\"']+" % "|".join(map(re.escape, SECRET_SEGMENTS)))  # noqa: UP031
_ROOT_SEGMENT = re.compile(
    r"((?:^|[\s\"'=(]|//[^/?#\s\"']+)/(?:%s)/)[^/?#\s\"']+"  # noqa: UP031
    % "|".join(map(re.escape, SECRET_ROOT_SEGMENTS))
)
_PARAM = re.compile(
    r"([?&;](?:%s)=)[^&;#\s\"']*" % "|".join(map(re.escape, SECRET_PARAMS)),  # noqa: UP031
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` with every secret path segment and token-like query value replaced by ``[redacted]``."""
    if "/" not in text and "=" not in text:
        return text
    text = _SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    text = _ROOT_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    return _PARAM.sub(lambda m: m.group(1) + REDACTED, text)


def redact_path(path: str) -> str:
    """A request path (and query string, if any) as a log may show it."""
    return redact_text(path) if path else path


def redact_url(url: str | None) -> str:
    """An outgoing URL as a log or audit row may show it: ``scheme://host[:port]/…``."""
    if not url:
        return ""
    try:
        parts = urlsplit(str(url))
        host, port = parts.hostname, parts.port
    except ValueError:
        return "[an invalid URL]"
    if not parts.scheme or not host:
        return "[a URL without a scheme]"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}/…"


def redact_credentials(url: str | None) -> str:
    """A service URL as a log may show it: scheme, user, host, port, path, with no password."""
    if not url:
        return ""
    try:
        parts = urlsplit(str(url))
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return "[an invalid URL]"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{hostport}" if colon else f"{user}@{hostport}"
    query = _PARAM.sub(lambda m: m.group(1) + REDACTED, "?" + parts.query)[1:] if parts.query else ""
    return parts._replace(netloc=netloc, query=query).geturl()


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record whose message holds a secret path or query value; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format is left for the handler to report
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
