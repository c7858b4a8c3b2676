"""The request a proxy asks about, decoded once and normalised before any rule sees it (docs/gateway.md).

Pure functions, no Django.  ``normalise(method, url)`` takes the method and the full URL a proxy sends
(``X-Original-URL``, or ``X-Forwarded-Proto``/``-Host``/``-Uri`` put together) and gives a ``NormalRequest``
whose path is decoded exactly once, with dot segments and repeated slashes removed and without its query string
or fragment: rules match that path and nothing else.  What could mean one path to the gateway and another to
the app behind it is refused with ``RequestRefused`` and a reason code, never guessed at:

- an encoded ``/`` (``%2F``) or ``\\`` (``%5C``) in the path, and a raw ``\\`` (``encoded_slash``,
  ``encoded_backslash``, ``backslash``): an app may split on them after the gateway matched;
- NUL, raw or ``%00``, and any other control character (``nul``, ``control``);
- a ``%`` not followed by two hex digits (``bad_encoding``), and invalid UTF-8 once decoded (``invalid_utf8``);
- double encoding: any ``%`` followed by two hex digits that is left after the one decoding (``%252F`` decodes
  to the literal text ``%2F``; ``%252e%252e`` to ``%2e%2e``) is refused (``double_encoding``), whatever it would
  become: an app that decodes once more must not see a path the rules never saw;
- a URL that is not absolute http(s) (``bad_url``); a missing or empty host, userinfo (``user@host``), a port
  that is not a number from 1 to 65535, or a host name that is not ASCII letters, digits, ``-`` and ``.`` (or a
  bracketed IPv6 address) (``bad_host``); a method that is not an upper-case HTTP token (``bad_method``).

The host is lower-cased, a trailing dot dropped, and a default port (80 for http, 443 for https) dropped; any
other port is kept in ``NormalRequest.port`` but rules match on the host name alone, as Authelia's do.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from smishguard.gateway.errors import RequestRefused

DEFAULT_PORTS = {"http": 80, "https": 443}
_METHOD = re.compile(r"[A-Z]{1,20}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HEX = frozenset("0123456789abcdefABCDEF")
_LEFT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_URL_LENGTH = 8192


@dataclass(frozen=True)
class NormalRequest:
    """What the rules match: the method, the host name (lower case, no port), the normalised path (no query)."""

    method: str
    scheme: str
    host: str
    path: str
    port: int | None = None  # a port other than the scheme's default; None for the default

    @property
    def url(self) -> str:
        """The normalised URL, without the query string (for messages and records)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}{self.path}"


def normalise(method: str, url: str) -> NormalRequest:
    """``method`` and ``url`` as a proxy sends them, checked and normalised; RequestRefused for anything odd."""
    checked_method = normalise_method(method)
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise RequestRefused("bad_url", "the URL is empty or too long")
    if _CONTROL.search(url):
        reason = "nul" if "\x00" in url else "control"
        raise RequestRefused(reason, "the URL holds a control character")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket, a bad port
        raise RequestRefused("bad_url", "the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not url.lower().startswith(f"{scheme}://"):
        raise RequestRefused("bad_url", "the URL must be absolute, http:// or https://")
    host, port = normalise_host(parts.netloc, scheme)
    return NormalRequest(method=checked_method, scheme=scheme, host=host, path=normalise_path(parts.path), port=port)


def normalise_method(method: str) -> str:
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise RequestRefused("bad_method", "the method must be an HTTP method in capitals, such as GET")
    return method


@functools.lru_cache(maxsize=512)  # the protected hosts are few; a refusal (an exception) is not kept
def normalise_host(netloc: str, scheme: str) -> tuple[str, int | None]:
    """(host name, port or None) from the URL's authority: lower case, no trailing dot, no default port."""
    if not netloc:
        raise RequestRefused("bad_host", "the URL has no host")
    if "@" in netloc:
        raise RequestRefused("bad_host", "the URL's host has userinfo (user@host)")
    if netloc.startswith("["):
        literal, bracket, rest = netloc[1:].partition("]")
        if not bracket:
            raise RequestRefused("bad_host", "the URL's IPv6 host has no closing bracket")
        try:
            host = str(ipaddress.IPv6Address(literal))
        except ValueError:
            raise RequestRefused("bad_host", "the URL's IPv6 host is not an IPv6 address") from None
        port_text = _port_text(rest)
    else:
        host, colon, port_text = netloc.partition(":")
        if colon and not port_text:
            raise RequestRefused("bad_host", "the URL's host ends with ':' but no port")
        host = host.lower().removesuffix(".")
        if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
            raise RequestRefused("bad_host", "the URL's host is not a host name (ASCII letters, digits, '-', '.')")
    port = _port(port_text)
    return host, None if port == DEFAULT_PORTS[scheme] else port


def _port_text(rest: str) -> str:
    if not rest:
        return ""
    if not rest.startswith(":") or len(rest) == 1:
        raise RequestRefused("bad_host", "the URL's host has something after the IPv6 address that is not a port")
    return rest[1:]


def _port(text: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise RequestRefused("bad_host", "the URL's port is not a number from 1 to 65535")
    return int(text)


def normalise_path(raw: str) -> str:
    """The path decoded once, refused if ambiguous, with dot segments and repeated slashes removed."""
    decoded = decode_once(raw or "/")
    if _LEFT_ESCAPE.search(decoded):
        raise RequestRefused("double_encoding", "the path is encoded twice (a %XX is left after decoding)")
    if not decoded.startswith("/"):
        raise RequestRefused("bad_url", "the path must start with /")
    return remove_dot_segments(decoded)


def decode_once(raw: str) -> str:
    """Percent-decode ``raw`` one time, refusing encoded separators, NUL, control characters, invalid UTF-8."""
    if "\\" in raw:
        raise RequestRefused("backslash", "the path holds a backslash")
    if "%" not in raw and raw.isascii():
        return raw  # nothing to decode (control characters were refused with the whole URL)
    out = bytearray()
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "%":
            try:
                out += char.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate
                raise RequestRefused("invalid_utf8", "the path is not valid UTF-8") from None
            i += 1
            continue
        pair = raw[i + 1 : i + 3]
        if len(pair) != 2 or not set(pair) <= _HEX:
            raise RequestRefused("bad_encoding", "the path has a % that is not followed by two hex digits")
        byte = int(pair, 16)
        if byte == 0x2F:
            raise RequestRefused("encoded_slash", "the path holds an encoded slash (%2F)")
        if byte == 0x5C:
            raise RequestRefused("encoded_backslash", "the path holds an encoded backslash (%5C)")
        if byte == 0:
            raise RequestRefused("nul", "the path holds an encoded NUL (%00)")
        if byte < 0x20 or byte == 0x7F:
            raise RequestRefused("control", "the path holds an encoded control character")
        out.append(byte)
        i += 3
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused("invalid_utf8", "the path is not valid UTF-8 once decoded") from None


def remove_dot_segments(path: str) -> str:
    """``/a/./b/../c//d`` -> ``/a/c/d``: empty segments dropped, ``..`` never above the root (RFC 3986 5.2.4).

    A trailing slash is kept (``/a/`` stays ``/a/``; ``/a/..`` is ``/``)."""
    if path.startswith("/") and "//" not in path and "/." not in path:
        return path  # no empty, "." or ".." segment: as it is
    return remove_dot_segments_one_by_one(path)


def remove_dot_segments_one_by_one(path: str) -> str:
    """:func:`remove_dot_segments` segment by segment, whatever the path (what its shortcut must agree with)."""
    segments: list[str] = []
    parts = path.split("/")[1:]
    trailing = False
    for index, segment in enumerate(parts):
        last = index == len(parts) - 1
        if segment in ("", "."):
            trailing = last
        elif segment == "..":
            if segments:
                segments.pop()
            trailing = last
        else:
            segments.append(segment)
            trailing = False
    if not segments:
        return "/"
    return "/" + "/".join(segments) + ("/" if trailing else "")
