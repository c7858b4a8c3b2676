"""Where the forward-auth (Traefik, Caddy) and ext_authz (Envoy) dialects find the request being checked.

Each function reads one dialect's description of the request its proxy is holding and gives ``(method, url)``
for ``check.evaluate``, which decodes and normalises the URL (``normalise``) or refuses it.  Here only what the
dialect adds is checked, and anything that could be read two ways is refused with ``RequestRefused`` and a
reason code, never guessed at (docs/gateway.md, "Traefik, Caddy and Envoy"):

- **forward-auth** (``X-Forwarded-Method``, ``-Proto``, ``-Host``, ``-Uri``): every one is required (no falling
  back to this request's own method, host or path, which describe the check, not the request checked):
  ``missing_header``;
- **ext_authz** (the check's own request line and ``Host``, ``X-Forwarded-Proto``): the path is taken from the
  **raw** request target the server received (gunicorn's ``RAW_URI``, uWSGI's ``REQUEST_URI``), never from
  ``PATH_INFO``, which the WSGI server has already percent-decoded (``%2F`` arrives as ``/``); a server that
  does not give the raw target (Django's ``runserver``, its test client) gets ``raw_uri_unavailable``;
- the scheme must be ``http`` or ``https`` (``bad_url``); the host must be a host name or a bracketed IPv6
  address with an optional port, one value (``bad_host``: a comma from a repeated header, ``/``, ``?``, ``#``,
  ``@`` or a space would move the path elsewhere in the URL put together); the path must start with ``/``
  (``bad_url``).

The callers ask only once the peer is one of ``[gateway] trusted_proxies`` (``check.peer_may_ask``).  Then
``X-Forwarded-Proto`` and ``-Host`` are read as that peer sent them even when the general ``trusted_proxies``
(the client address's list) does not name it, and ForwardedHeadersMiddleware has set them aside
(``clientaddr.header_as_sent``): they describe the request being checked, and the gateway's own list is the one
that says who may describe it.  ``X-Forwarded-For`` is not read here: the client address of the request
checked is ``clientaddr.client_ip``, from the general list only, as for every request.
"""

from __future__ import annotations

import re

from django.http import HttpRequest

from smishguard.clientaddr import header_as_sent
from smishguard.gateway.errors import RequestRefused

# One host: a name (letters, digits, '-', '.') or a bracketed IPv6 literal, then an optional port.  normalise
# checks each label and the port's range; this only keeps anything else out of the URL put together.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_SCHEMES = ("http", "https")
# Where WSGI servers put the request target as received (before any decoding).
RAW_TARGET_KEYS = ("RAW_URI", "REQUEST_URI")


def forward_auth_request(request: HttpRequest) -> tuple[str, str]:
    """(method, URL) of the request a forward-auth proxy (Traefik ``forwardAuth``, Caddy ``forward_auth``)
    describes in ``X-Forwarded-Method``, ``-Proto``, ``-Host`` and ``-Uri``."""
    method = _required(request.META.get("HTTP_X_FORWARDED_METHOD"), "X-Forwarded-Method")
    proto = _required(header_as_sent(request, "HTTP_X_FORWARDED_PROTO"), "X-Forwarded-Proto")
    host = _required(header_as_sent(request, "HTTP_X_FORWARDED_HOST"), "X-Forwarded-Host")
    uri = _required(request.META.get("HTTP_X_FORWARDED_URI"), "X-Forwarded-Uri")
    return method, join_url(proto, host, wsgi_text(uri))


def ext_authz_request(request: HttpRequest, prefix: str) -> tuple[str, str]:
    """(method, URL) of the request Envoy's HTTP ext_authz asks about: its method is this request's, its host
    this request's ``Host``, its path and query what follows ``prefix`` (the ``path_prefix``) in the raw request
    target, its scheme ``X-Forwarded-Proto``."""
    raw = raw_target(request)
    if not raw.startswith(prefix + "/"):
        # An encoded character in the prefix itself (``/api/authz/ext-authz%2Fcustomers``), an absolute-form
        # target, or no path after the prefix: PATH_INFO found this view, but the raw target does not say so.
        raise RequestRefused("bad_url", f"the request target does not start with {prefix}/")
    proto = _required(header_as_sent(request, "HTTP_X_FORWARDED_PROTO"), "X-Forwarded-Proto")
    host = _required(request.META.get("HTTP_HOST"), "Host")
    return request.META.get("REQUEST_METHOD", ""), join_url(proto, host, raw[len(prefix) :])


def raw_target(request: HttpRequest) -> str:
    """The request target as the server received it (percent-encoding intact), or RequestRefused."""
    for key in RAW_TARGET_KEYS:
        value = request.META.get(key)
        if isinstance(value, str) and value:
            return wsgi_text(value)
    raise RequestRefused(
        "raw_uri_unavailable",
        "the server does not give the raw request target (RAW_URI): run the check under smishguard serve",
    )


def join_url(proto: str, host: str, target: str) -> str:
    """``proto://host`` + ``target``, once each part is one unambiguous value; RequestRefused otherwise."""
    scheme = proto.strip().lower()
    if scheme not in _SCHEMES:
        raise RequestRefused("bad_url", "X-Forwarded-Proto must be http or https")
    if not _HOST.fullmatch(host):
        raise RequestRefused("bad_host", "the host is not one host name or address with an optional port")
    if not target.startswith("/"):
        raise RequestRefused("bad_url", "the path must start with /")
    return f"{scheme}://{host}{target}"


def wsgi_text(value: str) -> str:
    """A WSGI string (the bytes received, one character per byte: PEP 3333) as the UTF-8 text it holds.

    A value that is not such a string (a character above U+00FF: a test client's ``str``) is returned as it is;
    bytes that are not UTF-8 are refused (``invalid_utf8``) rather than read as Latin-1."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused("invalid_utf8", "the request target is not valid UTF-8") from None


def _required(value: str | None, name: str) -> str:
    if value is None or not value.strip():
        raise RequestRefused("missing_header", f"{name} is missing or empty")
    return value.strip()
