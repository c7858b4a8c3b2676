"""Checking smishguard's identity assertion (``X-Smishguard-Assertion``) before trusting who is signed in.

The gateway admits a request and tells the app who it is for in two ways: plain headers (``Remote-User``, ...),
which the app can trust only as far as it trusts the network between it and the proxy, and a signed JWT, which
it can check itself:

- ES256 only (the header's ``alg``; ``none`` and every other algorithm are refused), signed by a key published at
  smishguard's ``/.well-known/smishguard/jwks.json``, chosen by the token's ``kid``;
- ``iss`` = smishguard's origin, ``aud`` = this app's own origin, ``exp`` in the future (a few seconds of leeway),
  ``sub`` present;
- the claims used: ``sub``, ``email``, ``groups``, ``amr`` (``hwk`` a hardware-bound key, ``swk`` a synced
  passkey, ``user`` the person verified), ``auth_time``.

The key set is fetched once and kept; a token naming a ``kid`` the set does not have (smishguard rotated its key)
makes it fetched again, at most once per ``min_refetch_seconds``, so a stream of tokens with made-up ``kid``s
cannot turn every request into a fetch; after a failed fetch the next is tried no sooner than
``retry_after_failure_seconds`` (the person is unverified meanwhile).  PyJWT checks the signature and the
registered claims.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import jwt

ALGORITHM = "ES256"
JWKS_PATH = "/.well-known/smishguard/jwks.json"


class Unverified(Exception):
    """The assertion is missing or bad; ``str()`` says why, in a few words for the page."""


@dataclass(frozen=True)
class Identity:
    sub: str
    email: str
    groups: tuple[str, ...]
    amr: tuple[str, ...]
    auth_time: int | None
    expires: int

    @property
    def key_kind(self) -> str:
        if "hwk" in self.amr:
            return "a hardware security key"
        if "swk" in self.amr:
            return "a synced passkey"
        return "a key"


def fetch_url(url: str, timeout: float = 3.0) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise Unverified(f"the key set's address is not http(s): {url}")
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - the scheme is checked above
        return answer.read(1_000_000)


class KeySet:
    """smishguard's published signing keys by ``kid``: fetched on first use, fetched again for an unknown kid."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Callable[[str], bytes] = fetch_url,
        min_refetch_seconds: float = 30.0,
        retry_after_failure_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._min_refetch = min_refetch_seconds
        self._retry_after_failure = retry_after_failure_seconds
        self._failed_at: float | None = None
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def _load(self) -> None:
        try:
            document = json.loads(self._fetch(self.url))
        except Unverified:
            raise
        except (OSError, ValueError) as exc:
            raise Unverified(f"smishguard's key set could not be fetched ({type(exc).__name__})") from None
        keys: dict[str, jwt.PyJWK] = {}
        for item in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(item, dict) or item.get("kty") != "EC" or item.get("crv") != "P-256":
                continue
            if item.get("use", "sig") != "sig" or not isinstance(item.get("kid"), str):
                continue
            try:
                keys[item["kid"]] = jwt.PyJWK(item, algorithm=ALGORITHM)
            except jwt.PyJWTError:
                continue
        self.fetches += 1
        self._keys = keys
        self._fetched_at = self._clock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self._clock()
            # Never fetched, or a kid not in the set (smishguard may have rotated its key since the last fetch).
            due = self._fetched_at is None or (kid not in self._keys and now - self._fetched_at >= self._min_refetch)
            if due:
                if self._failed_at is not None and now - self._failed_at < self._retry_after_failure:
                    # Not a fetch (and its timeout) per request while smishguard is unreachable.
                    raise Unverified("smishguard's key set could not be fetched (trying again shortly)")
                try:
                    self._load()
                except Unverified:
                    self._failed_at = now
                    raise
                self._failed_at = None
            found = self._keys.get(kid)
        if found is None:
            raise Unverified("signed with a key smishguard does not publish")
        return found


class Verifier:
    """Checks an ``X-Smishguard-Assertion`` for this app (``audience``, its origin) from smishguard (``issuer``)."""

    def __init__(self, *, issuer: str, audience: str, keys: KeySet, leeway: float = 5.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience.rstrip("/")
        self.keys = keys
        self.leeway = leeway

    @classmethod
    def for_origins(cls, *, smishguard_origin: str, app_origin: str, **keyset_options) -> Verifier:
        origin = smishguard_origin.rstrip("/")
        return cls(issuer=origin, audience=app_origin, keys=KeySet(origin + JWKS_PATH, **keyset_options))

    def verify(self, token: str | None) -> Identity:
        if not token:
            raise Unverified("no assertion")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unverified("not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise Unverified(f"algorithm {str(header.get('alg'))[:20]!r}, not {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unverified("no key id (kid)")
        if header.get("crit"):
            raise Unverified("critical header extensions are not understood")
        key = self.keys.key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unverified("expired") from None
        except jwt.InvalidAudienceError:
            raise Unverified("issued for another app (aud)") from None
        except jwt.InvalidIssuerError:
            raise Unverified("issued by someone else (iss)") from None
        except jwt.InvalidSignatureError:
            raise Unverified("bad signature") from None
        except jwt.PyJWTError as exc:
            raise Unverified(f"refused: {type(exc).__name__}") from None
        return _identity(claims)


def _identity(claims: dict) -> Identity:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unverified("no subject (sub)")
    email = claims.get("email", sub)
    groups = claims.get("groups", [])
    amr = claims.get("amr", [])
    auth_time = claims.get("auth_time")
    if not isinstance(email, str):
        raise Unverified("email is not a string")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise Unverified("groups is not a list of names")
    if not isinstance(amr, list) or not all(isinstance(m, str) for m in amr):
        raise Unverified("amr is not a list of methods")
    if auth_time is not None and (not isinstance(auth_time, int) or isinstance(auth_time, bool)):
        raise Unverified("auth_time is not a number of seconds")
    return Identity(
        sub=sub, email=email, groups=tuple(groups), amr=tuple(amr), auth_time=auth_time, expires=int(claims["exp"])
    )
