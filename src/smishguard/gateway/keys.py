"""The keys that sign ``X-Smishguard-Assertion``: made, stored encrypted, cached per process, rotated, published.

- **Storage.** One row per key (``models.SigningKey``) in the shared database, so every host signs with the same
  key. The private key (PKCS#8 DER) is encrypted with AES-256-GCM under a key derived from Django's
  ``SECRET_KEY`` with HKDF-SHA256 (``SECRET_KEY_FALLBACKS`` are tried too when decrypting), the ``kid`` bound as
  associated data; it is erased from the row when the key is retired (a retired key never signs again).
- **The first key** is made by ``smishguard migrate`` (the data migration gateway/0002); should the table be empty
  anyway, the first check that needs a key makes one, and two processes racing to do so end with one current key
  (the partial unique constraint: the loser's INSERT fails, it reads the winner's key).
- **Signing** uses the current key. Each process keeps it, decrypted, for ``CACHE_SECONDS``: in the steady state a
  check makes no query for the key, and a rotation reaches every host within that time.
- **Publication.** The JWKS lists the current key and every key retired less than ``PUBLISH_RETIRED_SECONDS``
  ago: longer than a host may still sign with it (``CACHE_SECONDS``) plus the life of what it signed
  (``assertion.LIFETIME_SECONDS``), plus an app's cached copy of the JWKS (``JWKS_MAX_AGE``), many times over.
- **A key that cannot be decrypted** (``SECRET_KEY`` changed, or differs between hosts): no assertion is signed
  (the check still answers, without the header: an app that verifies it refuses, one that reads ``Remote-*``
  does not notice), an error is logged at most once per ``CACHE_SECONDS`` per process, and ``smishguard doctor``
  reports it as unsafe. The way out: restore the secret key, or ``smishguard gateway rotate-key``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.db import one_writer
from smishguard.gateway import assertion
from smishguard.gateway.models import SigningKey

log = logging.getLogger(__name__)

CACHE_SECONDS = 5.0  # how long a process signs with the key it read before asking the database again
JWKS_MAX_AGE = 60  # Cache-Control max-age of the JWKS
PUBLISH_RETIRED_SECONDS = 600  # a retired key stays in the JWKS this long (>= 2 x the assertion's lifetime)
_NONCE_BYTES = 12
_HKDF_INFO = b"smishguard gateway signing key v1"


class KeyUnavailable(Exception):
    """The current signing key cannot be decrypted with this process's SECRET_KEY (nor its fallbacks)."""


@dataclass(frozen=True)
class Signer:
    kid: str
    private_key: ec.EllipticCurvePrivateKey


# --------------------------------------------------------------------------------------------------------
# The private key, encrypted under the secret key
# --------------------------------------------------------------------------------------------------------


def _wrapping_key(secret: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return AESGCM(hkdf.derive(secret.encode("utf-8")))


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def encrypt(private_key: ec.EllipticCurvePrivateKey, *, kid: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _wrapping_key(settings.SECRET_KEY).encrypt(nonce, der, kid.encode("ascii"))


def decrypt(blob: bytes, *, kid: str) -> ec.EllipticCurvePrivateKey:
    blob = bytes(blob)
    if len(blob) <= _NONCE_BYTES:
        raise KeyUnavailable(f"signing key {kid} holds no private key (retired)")
    nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    for secret in _secrets():
        try:
            der = _wrapping_key(secret).decrypt(nonce, sealed, kid.encode("ascii"))
        except InvalidTag:
            continue
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - we only ever store EC keys
            raise KeyUnavailable(f"signing key {kid} is not an EC key")
        return key
    raise KeyUnavailable(f"signing key {kid} cannot be decrypted with this SECRET_KEY (was it changed?)")


def new_key_fields(now: datetime) -> dict[str, Any]:
    """A fresh key as the columns of its row (also used by the data migration, on its historical model)."""
    private_key = assertion.new_private_key()
    kid = assertion.thumbprint(private_key.public_key())
    return {
        "kid": kid,
        "public_jwk": assertion.public_jwk(private_key.public_key(), kid=kid),
        "private_key": encrypt(private_key, kid=kid),
        "created_at": now,
        "current": True,
        "retired_at": None,
    }


# --------------------------------------------------------------------------------------------------------
# The current key, cached per process
# --------------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[float, Signer | None, str] | None = None  # (until, signer or None, kid read)


def forget() -> None:
    """Drop this process's cached key: the next signature reads the database."""
    global _cached  # noqa: PLW0603 - the per-process cache, replaced whole
    _cached = None


def _remember(signer: Signer | None, kid: str) -> None:
    global _cached  # noqa: PLW0603 - the per-process cache, replaced whole
    _cached = (time.monotonic() + CACHE_SECONDS, signer, kid)


def _current_row() -> tuple[str, bytes]:
    row = SigningKey.objects.filter(current=True).values_list("kid", "private_key").first()
    if row is not None:
        return row[0], bytes(row[1])
    created = create_first()
    return created.kid, bytes(created.private_key)


def create_first() -> SigningKey:
    """The current key, made now if there is none; two processes racing here end with the same one."""
    existing = SigningKey.objects.filter(current=True).first()
    if existing is not None:
        return existing
    try:
        with one_writer(), transaction.atomic():
            return SigningKey.objects.create(**new_key_fields(timezone.now()))
    except IntegrityError:  # another process made it first: the one-current-key constraint refused ours
        return SigningKey.objects.get(current=True)


def signer() -> Signer | None:
    """The key to sign with now, or None when it cannot be decrypted (logged; ``smishguard doctor`` says so)."""
    cached = _cached
    now = time.monotonic()
    if cached is not None and now < cached[0]:
        return cached[1]
    with _lock:
        cached = _cached
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        kid, blob = _current_row()
        if cached is not None and cached[2] == kid and cached[1] is not None:
            current: Signer | None = cached[1]  # the same key: no second decryption
        else:
            try:
                current = Signer(kid=kid, private_key=decrypt(blob, kid=kid))
            except KeyUnavailable as exc:
                log.error("gateway: no X-Smishguard-Assertion is signed: %s", exc)
                current = None
        _remember(current, kid)
        return current


def problem() -> str | None:
    """What ``smishguard doctor`` reports: why the current key cannot sign here, or None."""
    row = SigningKey.objects.filter(current=True).values_list("kid", "private_key").first()
    if row is None:
        return None  # made on first need
    try:
        decrypt(bytes(row[1]), kid=row[0])
    except KeyUnavailable as exc:
        return (
            f"{exc}: the gateway sends no X-Smishguard-Assertion; restore the secret key, or run "
            "`smishguard gateway rotate-key`"
        )
    return None


# --------------------------------------------------------------------------------------------------------
# Rotation and publication
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    kid: str
    retired: list[str]
    retired_published_until: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "retired": self.retired,
            "retired_published_until": self.retired_published_until.isoformat(),
        }


def rotate(*, actor_label: str | None = None) -> Rotation:
    """A new current key; the old one retired (its private key erased), still published for a while. Audited."""
    now = timezone.now()
    fields = new_key_fields(now)
    for attempt in range(3):
        try:
            with one_writer(), transaction.atomic():
                # Locked, then retired by id: what the audit event names is exactly what this rotation retired.
                retiring = dict(SigningKey.objects.select_for_update().filter(current=True).values_list("pk", "kid"))
                retired = list(retiring.values())
                SigningKey.objects.filter(pk__in=retiring).update(current=False, retired_at=now, private_key=b"")
                SigningKey.objects.create(**fields)  # IntegrityError if another rotation's key is current now
                until = now + timedelta(seconds=PUBLISH_RETIRED_SECONDS)
                record(
                    Action.GATEWAY_KEY_ROTATED,
                    actor_label=actor_label,
                    kid=fields["kid"],
                    retired=retired,
                    retired_published_until=until.isoformat(),
                )
            break
        except IntegrityError:  # another rotation committed a new current key meanwhile: retire that one too
            if attempt == 2:
                raise
    forget()  # this process signs with the new key from its next check; every other within CACHE_SECONDS
    return Rotation(kid=fields["kid"], retired=retired, retired_published_until=until)


def published(now: datetime | None = None) -> list[dict[str, Any]]:
    """The public JWKs an app may meet: the current key, and those retired less than PUBLISH_RETIRED_SECONDS ago."""
    now = now or timezone.now()
    since = now - timedelta(seconds=PUBLISH_RETIRED_SECONDS)
    rows = SigningKey.objects.filter(current=True) | SigningKey.objects.filter(retired_at__gt=since)
    return [dict(jwk) for jwk in rows.order_by("-created_at").values_list("public_jwk", flat=True)]
