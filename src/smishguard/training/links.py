"""The tracked link of a simulation's recipient: ``https://<simulation host>/s/<rid>``.

``[training] simulation_host`` names the host the drills link to (a domain of the company's own that looks
nothing like a warning; never blocklisted).  Blank: the origin's scheme and host.  The rid is
:func:`new_rid`'s: ``secrets.token_urlsafe`` of 24 bytes (192 bits), unguessable.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

RID_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters (Recipient.rid holds 32)


def new_rid() -> str:
    return secrets.token_urlsafe(RID_BYTES)


def link_base() -> str:
    """``https://host`` of the tracked links (no trailing slash)."""
    from django.conf import settings

    host = settings.SMISHGUARD.training.simulation_host
    if host:
        return f"https://{host}"
    origin = urlsplit(settings.SMISHGUARD.origin)
    return f"{origin.scheme or 'https'}://{origin.netloc}"


def link_netloc() -> str:
    """The host and port (``host[:port]``) the tracked links are on: what a forwarded link shows before ``/s/``."""
    return urlsplit(link_base()).netloc


def link_host() -> str:
    """The host (without a port) the tracked links are on."""
    return urlsplit(link_base()).hostname or ""


def tracked_link(rid: str) -> str:
    """The recipient's tracked link."""
    return f"{link_base()}/s/{rid}"
