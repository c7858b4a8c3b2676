"""Show a newly issued enrolment link once, from server-side state, to the admin who issued it.

The console used to put the link into Django's messages cookie: signed, not encrypted, so the live link sat in
the browser's cookie jar and travelled with every request until shown.  Now the view calls ``hold`` and
redirects as before (POST/redirect/GET, so a reload never issues a second link); the next page the admin loads
takes the link with ``take``, which deletes the row in the same step.

The row is bound to the admin's session (deleted with it) and sealed (Fernet: AES-CBC + HMAC) under a key
derived from that session's cookie token, which the database does not hold (only its SHA-256), so neither a
database reader nor another session can read it.  A row not taken within ``TTL`` is never shown and is deleted
at the next ``take`` or ``hold``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts.models import LinkNotice

TTL = timedelta(minutes=10)
_CONTEXT = b"smishguard.accounts.notices.v1"


def _fernet(cookie_token: str) -> Fernet:
    key = hmac.new(cookie_token.encode(), _CONTEXT, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _session_and_token(request: HttpRequest):
    session = getattr(request, "sg_session", None)
    token = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return (session, token) if session is not None and token else (None, None)


def _purge_stale() -> None:
    LinkNotice.objects.filter(created_at__lt=timezone.now() - TTL).delete()


def hold(request: HttpRequest, url: str, expires: object) -> bool:
    """Keep ``url`` (an issued link) for the next page this session loads; False when there is no session."""
    session, token = _session_and_token(request)
    if session is None:
        return False
    expires_text = expires.isoformat() if hasattr(expires, "isoformat") else str(expires)
    sealed = _fernet(token).encrypt(json.dumps({"url": url, "expires": expires_text}).encode()).decode()
    _purge_stale()
    LinkNotice.objects.create(session=session, sealed=sealed)
    return True


def take(request: HttpRequest) -> list[dict[str, str]]:
    """The links held for this session, oldest first, each shown once: the rows are deleted as they are read."""
    session, token = _session_and_token(request)
    if session is None:
        return []
    with transaction.atomic():
        rows = list(LinkNotice.objects.filter(session=session).order_by("pk"))
        if not rows:
            return []
        LinkNotice.objects.filter(pk__in=[r.pk for r in rows]).delete()
    fernet = _fernet(token)
    shown = []
    for row in rows:
        try:
            data = json.loads(fernet.decrypt(row.sealed.encode(), ttl=int(TTL.total_seconds())))
        except (InvalidToken, ValueError):
            continue  # stale, or sealed for another cookie token: never shown
        shown.append({"url": str(data["url"]), "expires": str(data["expires"])})
    return shown
