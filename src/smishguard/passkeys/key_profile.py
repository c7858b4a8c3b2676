"""What real sign-in answers are made of, so that an email with no usable keys gets a fake answer shaped like
them: the make-up of the staff's keys (read at most every few minutes per process) and the deterministic fake
allow-list drawn from it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection

from smishguard.accounts.models import Employee
from smishguard.passkeys import sql


class KeyProfile(NamedTuple):
    """What real sign-in answers are made of: how many keys an employee is offered, and each key's id length
    and transports, with how often each occurs (sorted, so that a draw from it is stable)."""

    counts: tuple[tuple[int, int], ...]  # (keys offered, employees)
    kinds: tuple[tuple[tuple[int, tuple[str, ...]], int], ...]  # ((id length, transports), keys)


# Used while no employee has a usable key: security keys (64- and 48-byte ids over USB/NFC) and platform or
# phone passkeys (16-, 20- and 32-byte ids, internal/hybrid), one to three per person.
FALLBACK_KEY_PROFILE = KeyProfile(
    counts=((1, 6), (2, 3), (3, 1)),
    kinds=(
        ((16, ("hybrid", "internal")), 2),
        ((20, ("hybrid", "internal")), 1),
        ((32, ("internal",)), 1),
        ((48, ("usb",)), 2),
        ((64, ("nfc", "usb")), 4),
    ),
)
KEY_PROFILE_TTL_SECONDS = 600.0


class _ProfileCache:
    """The make-up of every active employee's usable keys (sql.KEY_KINDS, sql.KEY_COUNTS), read at most every
    KEY_PROFILE_TTL_SECONDS per process by a login/options with an email, known or not (so both run the same
    statements); a key registered or removed in this process reads it again at the next one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: KeyProfile | None = None
        self._read_at = 0.0

    def forget(self) -> None:
        with self._lock:
            self._value = None

    def get(self) -> KeyProfile:
        now = time.monotonic()
        with self._lock:
            if self._value is not None and now - self._read_at < KEY_PROFILE_TTL_SECONDS:
                return self._value
        value = read_key_profile()
        with self._lock:
            self._value, self._read_at = value, now
        return value


def read_key_profile() -> KeyProfile:
    with connection.cursor() as cursor:
        cursor.execute(sql.KEY_KINDS, [Employee.Status.ACTIVE])
        kind_rows = cursor.fetchall()
        cursor.execute(sql.KEY_COUNTS, [Employee.Status.ACTIVE])
        count_rows = cursor.fetchall()
    kinds: dict[tuple[int, tuple[str, ...]], int] = {}
    for length, transports, n in kind_rows:
        kind = (int(length), tuple(transports_of(transports)))
        kinds[kind] = kinds.get(kind, 0) + int(n)
    counts = tuple(sorted((int(k), int(n)) for k, n in count_rows))
    if not kinds or not counts:
        return FALLBACK_KEY_PROFILE
    return KeyProfile(counts=counts, kinds=tuple(sorted(kinds.items())))


_key_profile = _ProfileCache()


def key_profile() -> KeyProfile:
    """The staff's keys' make-up (cached per process)."""
    return _key_profile.get()


def forget_key_profile() -> None:
    """Read the real keys' make-up again at the next login/options (after a key is added or removed)."""
    _key_profile.forget()


def _draw(weighted: tuple[tuple[Any, int], ...], seed: bytes) -> Any:
    """One item of ``weighted`` ((item, weight) pairs), chosen by 8 bytes of ``seed`` as a number in [0, 1)."""
    point = int.from_bytes(seed[:8], "big") / 2**64 * sum(w for _, w in weighted)
    for item, weight in weighted:
        if point < weight:
            return item
        point -= weight
    return weighted[-1][0]


def _fake_id(key: bytes, email: str, index: int, length: int) -> bytes:
    out = b""
    block = 0
    while len(out) < length:
        message = f"smishguard:fake-credential:{email}:{index}:{block}".encode()
        out += hmac.new(key, message, hashlib.sha512).digest()
        block += 1
    return out[:length]


def fake_allow_list(email: str) -> list[tuple[bytes, list[str]]]:
    """Credentials for an email that has no usable keys, made like real answers and the same on every ask.

    The number of keys and each key's id length and transports are drawn from the real keys' make-up
    (``KeyProfile``) by an HMAC of the email under the secret key; the ids are HMACs too.  The draws use fixed
    slices of the HMAC over a sorted distribution, so a small change in the staff's keys moves few answers.
    """
    key = settings.SECRET_KEY.encode()
    seed = hmac.new(key, f"smishguard:fake-credentials:{email}".encode(), hashlib.sha512).digest()
    profile = _key_profile.get()
    count = _draw(profile.counts, seed[:8])
    out = []
    for i in range(count):
        kind_seed = hmac.new(key, f"smishguard:fake-credential-kind:{email}:{i}".encode(), hashlib.sha256).digest()
        length, transports = _draw(profile.kinds, kind_seed)
        out.append((_fake_id(key, email, i, length), list(transports)))
    return out


def transports_of(value: Any) -> list[str]:
    """A key's transports as a list, from the JSON column as the database driver returns it."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else list(json.loads(value) or [])
