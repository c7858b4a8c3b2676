"""Where a sign-in may send the browser back to: ONE function for every caller.

``safe_return_url`` answers a candidate ``next`` (from a query string, a form or a JSON body) with itself when it
points back into smishguard or into a host that a higher app registers (the gateway's protected hosts, through
``register_return_host_check``), else with the default.  Accepted are a path on this site (``/console/...``)
and an absolute http(s) URL whose host is allowed; refused is everything a browser could read as another host or
as script: ``//host``, ``/\\host``, ``/\\t/host`` (browsers drop tabs and newlines), their percent-encoded
forms (``/%09/host``, ``/%2F/host``, ``/%5C/host``), ``https:/host`` and ``https:host`` (another host when the
scheme differs from the page's), ``javascript:`` and any other scheme, userinfo tricks, and any control or space
character.

A registered host check is asked only about an absolute URL that passed every refusal above, with the URL's host
name (lower-cased; ASCII letters, digits, ``-`` and ``.`` only, no port); the scheme rule is the same as for
smishguard's own host: https only when smishguard's origin is https (http is accepted only when the origin itself
is http, as in the demo and the tests).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2000
# How many rounds of percent-decoding are looked through (a double-encoded %255C is still a backslash).
DECODE_ROUNDS = 3

# Providers of further hosts a sign-in may return to (e.g. the gateway's protected hosts), registered in an
# AppConfig.ready(); each returns host names ("app.example.com" or "app.example.com:8443").
_host_providers: list[Callable[[], Iterable[str]]] = []
# Checks of a host name ("customers.example.com") a sign-in may return to (e.g. the gateway's rules' domains,
# exact or wildcard), registered in an AppConfig.ready(); asked on each call, so a changed policy counts at once.
_host_checks: list[Callable[[str], bool]] = []
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


def register_return_hosts(provider: Callable[[], Iterable[str]]) -> None:
    """Let ``provider()``'s hosts be returned to after a sign-in (asked on each call, so it may read the DB)."""
    if provider not in _host_providers:
        _host_providers.append(provider)


def register_return_host_check(check: Callable[[str], bool]) -> None:
    """Let an absolute URL whose host name ``check(host)`` accepts be returned to after a sign-in (any port)."""
    if check not in _host_checks:
        _host_checks.append(check)


def unregister_return_hosts_for_tests() -> None:
    _host_providers.clear()


def _checked_host(netloc: str, hosts: set[str]) -> str | None:
    """``netloc`` when a registered check accepts its host name (a plain ASCII name and a valid port), else None."""
    if not _host_checks or netloc in hosts:
        return None
    name, _, port = netloc.lower().partition(":")
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return None
    if not _HOST_NAME.fullmatch(name) or ".." in name:  # a trailing dot, IDN, IPv6 literals: no
        return None
    return netloc if any(check(name) for check in _host_checks) else None


def allowed_hosts(request: HttpRequest | None) -> set[str]:
    """smishguard's own host (from the configured origin and, when it passed ALLOWED_HOSTS, the request's) and
    every registered provider's hosts."""
    hosts = {urlsplit(settings.SMISHGUARD.origin).netloc}
    if request is not None:
        with contextlib.suppress(DisallowedHost):  # a Host that fails ALLOWED_HOSTS adds nothing
            hosts.add(request.get_host())
    for provider in _host_providers:
        hosts.update(provider())
    return {h for h in hosts if h}


def _has_any(text: str, categories: str) -> bool:
    return any(unicodedata.category(ch)[0] in categories for ch in text)


def _one_form_is_safe(url: str, hosts: set[str], require_https: bool, *, decoded: bool) -> bool:
    # As sent: no control character and no space at all; once decoded, a space (%20) is an ordinary character.
    if "\\" in url or _has_any(url, "C" if decoded else "CZ"):
        return False
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        # Absolute: http(s), a host, and no userinfo.
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
            return False
        checked = _checked_host(parts.netloc, hosts)
        if checked is not None:
            hosts = {*hosts, checked}
    elif not url.startswith("/") or url.startswith("//"):
        return False  # only a path on this site, never a relative or scheme-relative reference
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=require_https)


def is_safe_return_url(candidate: object, *, request: HttpRequest | None = None) -> bool:
    if not isinstance(candidate, str) or not candidate or len(candidate) > MAX_LENGTH:
        return False
    hosts = allowed_hosts(request)
    require_https = settings.SMISHGUARD.secure_origin
    form = candidate
    for round_ in range(DECODE_ROUNDS + 1):
        if not _one_form_is_safe(form, hosts, require_https, decoded=round_ > 0):
            return False
        decoded = unquote(form)
        if decoded == form:
            return True
        form = decoded
    return False  # still encoded after several rounds: nobody legitimate sends that


def safe_return_url(candidate: object, *, request: HttpRequest | None = None, default: str = "/") -> str:
    """``candidate`` if a sign-in may return there, else ``default``."""
    return candidate if is_safe_return_url(candidate, request=request) else default  # type: ignore[return-value]
