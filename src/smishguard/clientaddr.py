"""The client's address and scheme, for rate limits and the audit trail alike.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the direct peer (REMOTE_ADDR) is one of
``trusted_proxies`` (CIDRs: smishguard.toml or SMISHGUARD_TRUSTED_PROXIES; none by default).  The client is then
the right-most address in X-Forwarded-For that is not itself a trusted proxy: everything to its left was written
by the client and proves nothing.  Anyone else's forwarding headers are dropped at the first middleware (and kept
aside only for the gateway's checks, which trust their peer by a list of their own: :func:`header_as_sent`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def networks(cidrs: tuple[str, ...]) -> tuple[_Network, ...]:
    """CIDRs (already checked, as config and the gateway's rules keep them) as networks, parsed once per list."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


@lru_cache(maxsize=1024)  # every request parses its peer's address, from a few proxies; addresses are immutable
def parse_address(value: str | None) -> _Address | None:
    """An IP address from text (an IPv4-mapped IPv6 address as its IPv4 address); None for none or garbage."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def in_networks(address: _Address | None, nets: tuple[_Network, ...]) -> bool:
    """Whether ``address`` (None: unknown, never in) is in one of ``nets``."""
    return address is not None and any(address.version == n.version and address in n for n in nets)


def peer_is_trusted(request: HttpRequest) -> bool:
    trusted = networks(settings.SMISHGUARD.trusted_proxies)
    return bool(trusted) and in_networks(parse_address(request.META.get("REMOTE_ADDR")), trusted)


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR; behind a trusted proxy, the right-most X-Forwarded-For address not in trusted_proxies."""
    if request is None:
        return None
    return client_ip_from_meta(request.META)


def client_ip_from_meta(meta: dict) -> str | None:
    """:func:`client_ip` from a request's META (a WSGI environ): what smishguard.server's access log uses."""
    peer = meta.get("REMOTE_ADDR") or None
    trusted = networks(settings.SMISHGUARD.trusted_proxies)
    if not trusted or not in_networks(parse_address(peer), trusted):
        return peer
    client = peer
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        if not hop.strip():
            continue
        address = parse_address(hop)
        if address is None:
            break  # garbage from the hop to its right: that (trusted) hop is the client we know
        client = str(address)
        if not in_networks(address, trusted):
            break
    return client


def client_ip_for_limits(request: HttpRequest) -> str:
    """django-ratelimit's RATELIMIT_IP_META_KEY: the client address (the unspecified one if there is none)."""
    return client_ip(request) or "0.0.0.0"  # noqa: S104 - a key, not an address to bind


class ForwardedHeadersMiddleware:
    """First in MIDDLEWARE: forwarding headers from a peer that is not a trusted proxy are dropped, so neither
    SECURE_PROXY_SSL_HEADER (X-Forwarded-Proto) nor anything after it can be told a story by the client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not peer_is_trusted(request):
            dropped = {name: request.META.pop(name) for name in _FORWARDING if name in request.META}
            if dropped:
                request.META[DROPPED_KEY] = dropped
        return self.get_response(request)


_FORWARDING = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST")
# Where ForwardedHeadersMiddleware keeps what it dropped (a WSGI extension key: no HTTP header can make one).
DROPPED_KEY = "smishguard.dropped_forwarding_headers"


def header_as_sent(request: HttpRequest, name: str) -> str | None:
    """A forwarding header (META name, ``HTTP_X_FORWARDED_HOST``) as the peer sent it, even where
    ForwardedHeadersMiddleware dropped it: only for a caller that trusts the peer by a list of its own.  The
    gateway's checks do (``[gateway] trusted_proxies``): there X-Forwarded-Proto and -Host describe the request
    being checked, not this one (docs/gateway.md)."""
    value = request.META.get(name)
    if value is None:
        value = request.META.get(DROPPED_KEY, {}).get(name)
    return value
