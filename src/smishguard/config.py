"""Configuration read from ``SMISHGUARD_*`` environment variables and an optional ``smishguard.toml``.

The environment holds what an operator sets per deployment (database, secret key, origin, RP ID, Twilio
credentials); the TOML file holds what the security team edits (policies, thresholds).  Everything has a
safe default so that the demo needs neither.  This module imports no Django: settings.py and the CLI both
read it.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import math
import os
import re
import secrets
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from smishguard import timeofday


class ConfigError(Exception):
    """The configuration file or an environment variable is malformed."""


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"SMISHGUARD_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    """Where the demo keeps its SQLite database and generated secret: ``./var`` of the current folder."""
    path = Path(env("DATA_DIR") or Path.cwd() / "var").resolve()
    if path.exists() and not path.is_dir():
        name = "SMISHGUARD_DATA_DIR" if env("DATA_DIR") else "the data folder"
        raise ConfigError(f"{name} ({path}) is a file, not a folder")
    return path


# Whether this process may create the data folder, the generated secret key and the SQLite database.  The CLI
# turns it off for every command but ``migrate`` and ``demo`` (smishguard.clitools.setup_django), so a command run in
# the wrong folder says "not set up here" and leaves nothing behind; a server process keeps the default.
_may_create = True

NOT_SET_UP = "the database is not set up here: run `smishguard migrate` (or `smishguard demo`) first"


def set_may_create(allowed: bool) -> None:
    global _may_create  # noqa: PLW0603 - one switch per process, set before Django starts
    _may_create = allowed


def may_create() -> bool:
    return _may_create


# The origin the last server started from this data folder was serving (``smishguard demo --port N`` records
# http://localhost:N, ``smishguard serve`` its configured origin): the CLI prints its links with it when
# SMISHGUARD_ORIGIN is not set, so they point at the server that is running.
ORIGIN_FILE = "origin"


def recorded_origin() -> str | None:
    """The origin recorded in the data folder, or None (no file, unreadable, or not an http(s) origin)."""
    try:
        value = (data_dir() / ORIGIN_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError, ConfigError):
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        return None
    return value.rstrip("/")


def record_origin(origin: str) -> None:
    """Record ``origin`` in the data folder (which must exist) for the CLI; written whole or not at all."""
    folder = data_dir()
    if not folder.is_dir():
        return
    temporary = folder / f".{ORIGIN_FILE}.{os.getpid()}"
    try:
        temporary.write_text(origin + "\n", encoding="utf-8")
        temporary.replace(folder / ORIGIN_FILE)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot record the origin in {folder}: {exc.strerror or exc}") from None


_as_owner = False


def connect_as_owner() -> None:
    """From here on, this process works on the database as its owner (SMISHGUARD_MIGRATE_DATABASE_URL, when set):
    ``smishguard migrate`` calls it before Django starts.  One switch per process, like set_may_create."""
    global _as_owner  # noqa: PLW0603 - one switch per process, set before Django starts
    _as_owner = True


def migrate_database_url() -> str | None:
    """SMISHGUARD_MIGRATE_DATABASE_URL: the database owner, for the migrations (docs/deploy.md, "Database
    roles"); None when unset (the migrations then run as SMISHGUARD_DATABASE_URL's role)."""
    return (env("MIGRATE_DATABASE_URL") or "").strip() or None


def services_database_url() -> str:
    """The database as the web and worker processes reach it (SMISHGUARD_DATABASE_URL, or the SQLite file)."""
    url = env("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'smishguard.sqlite3'}"


def database_url() -> str:
    """The database this process connects to: the services' URL, or the owner's after connect_as_owner()."""
    owner = migrate_database_url() if _as_owner else None
    return owner or services_database_url()


REDIS_SCHEMES = ("redis", "rediss", "unix")


def redis_url() -> str | None:
    """SMISHGUARD_REDIS_URL (``redis://``, ``rediss://`` for TLS, ``unix://``), or None: no Redis (the rate-limit
    counters stay in the database).  The URL is never echoed: it may hold the password."""
    url = (env("REDIS_URL") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError("SMISHGUARD_REDIS_URL must start with redis://, rediss:// or unix://")
    if parts.scheme != "rediss" and any(name.startswith("ssl_") for name in parse_qs(parts.query)):
        raise ConfigError("SMISHGUARD_REDIS_URL has ssl_ options: use rediss:// for TLS")
    return url


_COOKIE_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def cookie_domain(origin: str) -> str | None:
    """SMISHGUARD_COOKIE_DOMAIN (``.example.com``): the session and CSRF cookies scoped to that parent domain of
    the origin's host, so the gateway's protected sibling hosts receive the session (docs/gateway.md); unset:
    host-only cookies.  A value that is not a parent domain of the origin's host (at least two labels, never
    the host itself) is refused: the browser would drop every such cookie, and sign-ins would silently fail."""
    value = (env("COOKIE_DOMAIN") or "").strip()
    if not value:
        return None
    shown = value if value.isprintable() and len(value) <= 80 else value[:80].encode("unicode_escape").decode()
    name = value.lower().removeprefix(".")
    labels = name.split(".")
    if len(labels) < 2 or not all(_COOKIE_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(
            f"SMISHGUARD_COOKIE_DOMAIN must be a domain of at least two labels such as .example.com, not {shown!r}"
        )
    host = (urlsplit(origin).hostname or "").lower().removesuffix(".")
    if not host.endswith("." + name):
        raise ConfigError(
            f"SMISHGUARD_COOKIE_DOMAIN ({shown}) must be a parent domain of smishguard's origin host ({host}), "
            "e.g. .example.com for https://auth.example.com"
        )
    return "." + name


LOG_FORMATS = ("text", "json")


def log_format() -> str:
    """SMISHGUARD_LOG_FORMAT: ``text`` (the default: one readable line per record) or ``json`` (one JSON object
    per line, smishguard.logs.JsonFormatter), for Django's, smishguard's and ``smishguard serve``'s logs."""
    value = (env("LOG_FORMAT") or "text").strip().lower()
    if value not in LOG_FORMATS:
        shown = value if value.isprintable() and len(value) <= 20 else value[:20].encode("unicode_escape").decode()
        raise ConfigError(f"SMISHGUARD_LOG_FORMAT must be text or json, not {shown!r}")
    return value


# The bearer token that GET /metrics asks of Prometheus (smishguard.metrics_view): SMISHGUARD_METRICS_TOKEN_FILE
# (a file holding it, e.g. a systemd credential; preferred: the environment of a process is easier to read) or
# SMISHGUARD_METRICS_TOKEN.  Neither set: /metrics does not exist (404).
METRICS_TOKEN_MIN_LENGTH = 32


def metrics_token() -> str | None:
    """The /metrics bearer token, or None when none is configured.  Never echoed."""
    path = (env("METRICS_TOKEN_FILE") or "").strip()
    if path:
        if env("METRICS_TOKEN"):
            raise ConfigError("set SMISHGUARD_METRICS_TOKEN_FILE or SMISHGUARD_METRICS_TOKEN, not both")
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"SMISHGUARD_METRICS_TOKEN_FILE ({path}) cannot be read: {exc.__class__.__name__}"
            ) from None
        where = "SMISHGUARD_METRICS_TOKEN_FILE's token"
    else:
        token = (env("METRICS_TOKEN") or "").strip()
        if not token:
            return None
        where = "SMISHGUARD_METRICS_TOKEN"
    if len(token) < METRICS_TOKEN_MIN_LENGTH or not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError(
            f"{where} must be at least {METRICS_TOKEN_MIN_LENGTH} printable ASCII characters without spaces "
            f"(make one: {_MAKE_ONE})"
        )
    return token


# The secret key signs cookies and derives the fake sign-in answers for unknown emails: it must be at least 32
# random bytes.  A key is judged by what it could hold and by whether it looks made by hand (see
# secret_key_weakness); these are the placeholders people leave in, and words a random key never holds.
SECRET_KEY_PLACEHOLDER = "change-me-to-50-random-characters"  # noqa: S105 - deploy/env.example's, to refuse it
SECRET_KEY_MIN_BITS = 256
_PLACEHOLDER_WORDS = ("change", "replace", "example", "insecure", "secret", "password", "placeholder")
# The usual alphabets of generated keys, smallest first: a key is measured against the first that holds it.
_ALPHABETS = (
    string.digits,
    "0123456789abcdef",
    "0123456789ABCDEF",
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.ascii_lowercase + string.digits,
    string.ascii_uppercase + string.digits,
    string.ascii_letters + string.digits,
    string.ascii_letters + string.digits + "+/=",  # base64
    string.ascii_letters + string.digits + "-_=",  # base64url
)
_PRINTABLE = 95  # any other key: as if drawn from printable ASCII (space to tilde)
_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is not good enough as the secret key (the start of a sentence), or None when it is.

    "At least 32 random bytes" is judged in two steps.  Room: the key's characters are put in the smallest usual
    alphabet that holds them all (digits, hex, letters, letters and digits, base64, else printable ASCII), and
    length x log2(alphabet size) must reach 256 bits: 64 hex characters, 43 of base64, 40 printable ones.
    Randomness, which no test on one string proves, is checked only against what people type: a placeholder
    word, a repeating pattern, mostly a run ("abcdef...", "0123..."), or few different characters (fewer than
    0.4 times what a random key of that length and alphabet has; random keys of the usual kinds stayed above
    0.56 in 100,000 draws of each).  The key itself never appears in the answer.
    """
    if key == SECRET_KEY_PLACEHOLDER:
        return "is the placeholder from deploy/env.example"
    lowered = key.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return 'looks like a placeholder (it has a word such as "change" or "secret" in it)'
    size = next((len(chars) for chars in _ALPHABETS if set(key) <= set(chars)), _PRINTABLE)
    bits = len(key) * math.log2(size) if key else 0.0
    if bits < SECRET_KEY_MIN_BITS:
        return (
            f"is too short: {len(key)} characters from a {size}-character alphabet carry at most {bits:.0f} bits, "
            f"fewer than {SECRET_KEY_MIN_BITS} (32 random bytes)"
        )
    n = len(key)
    if any(key[period:] == key[:-period] for period in range(1, n // 2 + 1)):
        return "does not look random: it repeats itself"
    steps = sum(abs(ord(b) - ord(a)) <= 1 for a, b in itertools.pairwise(key))
    if steps * 2 > n - 1:
        return "does not look random: it runs in sequence"
    expected = size * (1 - (1 - 1 / size) ** n)  # different characters in a random key of this length
    if len(set(key)) < 0.4 * expected:
        return f"does not look random: it uses only {len(set(key))} different characters"
    return None


def _checked_secret_key(key: str, where: str) -> str:
    weakness = secret_key_weakness(key)
    if weakness is not None:
        raise ConfigError(f"{where} {weakness}; use 32 or more random bytes, e.g. the output of {_MAKE_ONE}")
    return key


def secret_key() -> str:
    """The secret key from the environment, else one generated once and kept beside the demo database.

    Either way a key that is a placeholder or holds less than 32 random bytes is refused (ConfigError).
    """
    key = env("SECRET_KEY")
    if key:
        return _checked_secret_key(key, "SMISHGUARD_SECRET_KEY")
    path = data_dir() / "secret_key"
    try:
        return _checked_secret_key(path.read_text().strip(), f"the secret key in {path}")
    except FileNotFoundError:
        pass
    except OSError as exc:  # unreadable: a newcomer needs the path and the reason, not a traceback
        raise ConfigError(f"cannot read the secret key at {path}: {exc.strerror or exc}") from None
    if not _may_create:  # a command run where nothing is set up: create nothing
        raise ConfigError(f"{NOT_SET_UP} (no secret key at {path})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    except FileExistsError:  # another process made it first
        return _checked_secret_key(path.read_text().strip(), f"the secret key in {path}")
    except OSError as exc:
        raise ConfigError(f"cannot write a new secret key at {path}: {exc.strerror or exc}") from None
    return key


@dataclass(frozen=True)
class WebAuthnPolicy:
    """What a security key must be to enrol and to sign in (see docs/security.md)."""

    user_verification: str = "required"  # required | preferred | discouraged
    attestation: str = "direct"  # none | indirect | direct | enterprise
    allowed_aaguids: tuple[str, ...] = ()  # empty: any model
    refuse_backup_eligible: bool = False  # True: hardware-bound keys only, no synced passkeys
    mds_blob_path: str | None = None  # FIDO MDS3 BLOB file downloaded by the security team
    mds_root_cert_path: str | None = None  # PEM of the root that signs the BLOB (FIDO's root in production)
    challenge_ttl_seconds: int = 300
    extra_root_certs_path: str | None = None  # PEM bundle of attestation roots, beside MDS


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout_seconds: int = 30 * 60
    absolute_lifetime_seconds: int = 12 * 3600
    # Sensitive actions (adding a key, granting admin, approving, revoking all, changing policy) need this
    # session's last key assertion (sign-in or step-up) to be at most this old.
    step_up_max_age_seconds: int = 300

    def __post_init__(self) -> None:
        value = self.step_up_max_age_seconds
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"[sessions] step_up_max_age_seconds must be a whole number >= 1, not {value!r}")


@dataclass(frozen=True)
class ApprovalPolicy:
    """Four eyes: ``[approvals]`` in smishguard.toml (docs/security.md)."""

    # An admin's approval counts only once their admin rights and their oldest active key are this many days old.
    min_age_days: int = 7

    def __post_init__(self) -> None:
        value = self.min_age_days
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"[approvals] min_age_days must be a whole number >= 0, not {value!r}")


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio credentials and sending policy, from ``SMISHGUARD_TWILIO_*`` (see docs/messaging.md)."""

    account_sid: str = ""
    auth_token: str = ""
    from_numbers: tuple[str, ...] = ()  # SMISHGUARD_TWILIO_FROM, comma-separated E.164 sending numbers
    messaging_service_sid: str = ""  # SMISHGUARD_TWILIO_MESSAGING_SERVICE_SID, instead of (or beside) numbers
    api_base: str | None = None  # unset: the real https://api.twilio.com; tests point it at 127.0.0.1
    public_url: str | None = None  # SMISHGUARD_PUBLIC_URL: base URL Twilio calls (signatures, StatusCallback)
    rate_per_second: float = 1.0  # messages per second per sending number (a long code: 1/s)
    timeout_seconds: float = 15.0  # HTTP timeout of one API call
    send_lease_seconds: float = 60.0  # a send left "sending" longer than this is reconciled (> timeout)
    max_attempts: int = 5  # provider-unavailable retries before a message is marked failed
    inbound_limit: int = 10  # inbound texts per number per window before the flood answer
    inbound_window_seconds: int = 600

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and (self.from_numbers or self.messaging_service_sid))


def _float_env(name: str, default: float) -> float:
    value = env(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"SMISHGUARD_{name} must be a number, not {value!r}") from exc
    if not number > 0:
        raise ConfigError(f"SMISHGUARD_{name} must be greater than 0")
    return number


def twilio_settings() -> TwilioSettings:
    numbers = tuple(n.strip() for n in (env("TWILIO_FROM") or "").split(",") if n.strip())
    public_url = env("PUBLIC_URL")
    api_base = env("TWILIO_API_BASE")
    result = TwilioSettings(
        account_sid=(env("TWILIO_ACCOUNT_SID") or "").strip(),
        auth_token=(env("TWILIO_AUTH_TOKEN") or "").strip(),
        from_numbers=numbers,
        messaging_service_sid=(env("TWILIO_MESSAGING_SERVICE_SID") or "").strip(),
        api_base=api_base.rstrip("/") if api_base else None,
        public_url=public_url.rstrip("/") if public_url else None,
        rate_per_second=_float_env("TWILIO_RATE_PER_SECOND", TwilioSettings.rate_per_second),
        timeout_seconds=_float_env("TWILIO_TIMEOUT", TwilioSettings.timeout_seconds),
        send_lease_seconds=_float_env("TWILIO_SEND_LEASE_SECONDS", TwilioSettings.send_lease_seconds),
        max_attempts=int(_float_env("TWILIO_MAX_ATTEMPTS", TwilioSettings.max_attempts)),
        inbound_limit=int(_float_env("TWILIO_INBOUND_LIMIT", TwilioSettings.inbound_limit)),
        inbound_window_seconds=int(_float_env("TWILIO_INBOUND_WINDOW_SECONDS", TwilioSettings.inbound_window_seconds)),
    )
    if result.send_lease_seconds <= result.timeout_seconds:
        raise ConfigError("SMISHGUARD_TWILIO_SEND_LEASE_SECONDS must be longer than SMISHGUARD_TWILIO_TIMEOUT")
    return result


@dataclass(frozen=True)
class ResponsePolicy:
    """What happens to reported texts and their campaigns: ``[response]`` in smishguard.toml (docs/response.md)."""

    auto_blocklist: bool = True  # a known employee's report of a brand lookalike judged smishing: blocklisted at once
    auto_warn: bool = True  # warn all staff by itself once enough different employees reported a campaign ...
    warn_threshold: int = 3  # ... this many different (known) employees ...
    warn_window_seconds: int = 3600  # ... within this many seconds
    warn_verdicts: tuple[str, ...] = ("smishing",)  # a campaign judged one of these may be warned about by itself
    warning_template: str = (
        "Security warning: a phishing text is going round{brand}. Do not open links to {domains} and never type "
        "your password or a code after such a link. If you did, call the IT help desk now."
    )
    blocklist_dir: str | None = None  # the blocklists are written here on every change (none: served only)
    rpz_zone: str = "rpz.smishguard.local"  # the RPZ zone's name (its origin)
    alert_webhook: str | None = None  # the security team's webhook (Slack-compatible "text"); none: no alerts
    alert_attempts: int = 8  # deliveries tried before giving up (backoff 5 s, 10 s, ... up to 10 min)
    report_limit: int = 20  # reports per reporter (number, employee, token) per window before they are refused
    report_window_seconds: int = 600

    def __post_init__(self) -> None:
        counts = ("warn_threshold", "warn_window_seconds", "alert_attempts", "report_limit", "report_window_seconds")
        for name in counts:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"[response] {name} must be a whole number >= 1, not {value!r}")
        for name in ("auto_blocklist", "auto_warn"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"[response] {name} must be true or false")
        unknown = set(self.warn_verdicts) - {"smishing", "spam", "benign"}
        if unknown or not self.warn_verdicts:
            raise ConfigError("[response] warn_verdicts must be some of smishing, spam, benign")
        if "{domains}" not in self.warning_template:
            raise ConfigError("[response] warning_template must contain {domains}")
        if self.alert_webhook is not None and not str(self.alert_webhook).startswith(("http://", "https://")):
            raise ConfigError("[response] alert_webhook must be an http(s) URL")  # not echoed: it is a secret
        if not self.rpz_zone or not all(part for part in self.rpz_zone.strip(".").split(".")):
            raise ConfigError(f"[response] rpz_zone must be a domain name, not {self.rpz_zone!r}")


_RATE = re.compile(r"(\d+)/(\d*)([smhd])")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_LIMIT_GROUPS = ("signin", "enrol", "api", "twilio", "report", "landing")


def parse_rate(value: str) -> tuple[int, int]:
    """``"30/10m"`` -> (30, 600): django-ratelimit's rate form, N per [multiplier]s|m|h|d."""
    if not isinstance(value, str):
        raise ValueError(value)
    return _parse_rate(value)


@functools.lru_cache(maxsize=256)  # asked on every rate-limited request
def _parse_rate(value: str) -> tuple[int, int]:
    match = _RATE.fullmatch(value.strip())
    if match is None:
        raise ValueError(value)
    count, multiplier, unit = match.groups()
    seconds = _PERIOD_SECONDS[unit] * int(multiplier or 1)
    if int(count) < 1 or seconds < 1:
        raise ValueError(value)
    return int(count), seconds


@dataclass(frozen=True)
class RateLimits:
    """Requests per client address and per account: ``[rate_limits]`` in smishguard.toml (docs/deploy.md).

    Each is "N/period" (s, m, h, d, with an optional multiplier: "30/10m").  Per account is the stricter; per
    address is loose enough for a whole office behind one NAT address.  An account is the email asked for at
    sign-in (known or not), the enrolment link, the API token, the texting number, the signed-in employee.
    """

    enabled: bool = True
    signin_address: str = "1200/10m"  # login/options; failed login/verify on counters of their own
    signin_account: str = "30/10m"
    enrol_address: str = "300/10m"  # /enrol/<token>, register/options + register/verify
    enrol_account: str = "30/10m"
    api_address: str = "12000/10m"  # token-authenticated /api/*: scan, reports, blocklists, stix
    api_account: str = "6000/10m"
    twilio_address: str = "6000/10m"  # /hooks/twilio/* (Twilio calls from many addresses)
    twilio_account: str = "120/10m"  # per texting number, above the inbound flood answer (inbound_limit)
    report_address: str = "600/10m"  # the portal's "Report a text" form (POST)
    report_account: str = "60/10m"
    landing_address: str = "120/10m"  # unknown tracked links (/s/<rid> misses), counted only when they miss
    landing_account: str = "60/10m"  # one recipient's tracked link: its page, its submit, its lesson
    # Anonymous refusals (and rate-limit refusals) are audited once per source and window of this many seconds.
    audit_window_seconds: int = 600

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError("[rate_limits] enabled must be true or false")
        window = self.audit_window_seconds
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ConfigError(f"[rate_limits] audit_window_seconds must be a whole number >= 1, not {window!r}")
        for group in RATE_LIMIT_GROUPS:
            for scope in ("address", "account"):
                name = f"{group}_{scope}"
                try:
                    parse_rate(getattr(self, name))
                except ValueError:
                    raise ConfigError(
                        f'[rate_limits] {name} must be "N/period" such as "30/10m", not {getattr(self, name)!r}'
                    ) from None

    def rate(self, group: str, scope: str) -> tuple[int, int]:
        """(requests, seconds) for ``group`` ("signin", ...) per ``scope`` ("address" or "account")."""
        return parse_rate(getattr(self, f"{group}_{scope}"))


def parse_trusted_proxies(values: object, source: str) -> tuple[str, ...]:
    """CIDRs (a bare address is a /32 or /128), normalised: ``("127.0.0.1/32", "::1/128")``."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    if not isinstance(values, list | tuple):
        raise ConfigError(f"{source}: trusted_proxies must be a list of IP addresses or CIDRs")
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            bad = str(value).strip()
            raise ConfigError(f"{source}: trusted_proxies: {bad!r} is not an IP address or CIDR") from None
    return tuple(out)


def trusted_proxies(data: dict[str, Any]) -> tuple[str, ...]:
    """SMISHGUARD_TRUSTED_PROXIES (comma-separated), else ``trusted_proxies`` in smishguard.toml, else none."""
    if env("BEHIND_PROXY") is not None:
        raise ConfigError(
            "SMISHGUARD_BEHIND_PROXY is no longer read: list your proxy's addresses in SMISHGUARD_TRUSTED_PROXIES "
            "(or trusted_proxies in smishguard.toml), e.g. 127.0.0.1, and remove SMISHGUARD_BEHIND_PROXY"
        )
    value = env("TRUSTED_PROXIES")
    if value is not None:
        return parse_trusted_proxies(value, "SMISHGUARD_TRUSTED_PROXIES")
    return parse_trusted_proxies(data.get("trusted_proxies", []), "smishguard.toml")


# --- [siem]: the audit trail streamed to the company's SIEM (smishguard.siem) ------------------------------------

SIEM_KINDS = ("syslog", "http")
SIEM_FORMATS = ("hec", "jsonl")
_STREAM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SD_ID = re.compile(r"[!#-<>-\\^-~]{1,32}")  # printable US-ASCII but '=', ' ', ']', '"' (RFC 5424 SD-NAME)


@dataclass(frozen=True)
class SiemStream:
    """One ``[[siem.streams]]`` table: where the audit trail goes.  The token is named (an environment variable
    or a file), never written in smishguard.toml, and never logged."""

    name: str
    kind: str  # syslog | http
    host: str = ""  # syslog
    port: int = 0  # syslog: 0 means 6514 with TLS, 601 without (RFC 5425, RFC 6587)
    tls: bool = True  # syslog: TLS (RFC 5425); http: follows the URL's scheme
    url: str = field(default="", repr=False)  # http: the endpoint (may hold a secret: not in repr)
    format: str = "jsonl"  # http: hec (Splunk HTTP Event Collector) | jsonl (one JSON object a line)
    ca_file: str | None = None  # PEM of the CA(s) the receiver's certificate must chain to; unset: the system's
    token_env: str | None = None  # http: the environment variable holding the token
    token_file: str | None = None  # http: a file holding the token
    batch_size: int = 200  # events per POST / per connection
    hostname: str = ""  # syslog HOSTNAME and HEC "host"; unset: this machine's name
    app_name: str = "smishguard"  # syslog APP-NAME
    facility: int = 10  # syslog facility: 10 is authpriv (security/authorisation messages)
    sd_id: str = "smishguard@32473"  # syslog SD-ID (32473 is RFC 5612's example number: use your own PEN)
    source: str = "smishguard"  # hec
    sourcetype: str = "smishguard:audit"  # hec
    index: str = ""  # hec: unset, the token's default index
    start: str = "beginning"  # beginning: the whole trail; now: only events written after the stream first runs

    def __post_init__(self) -> None:
        where = f"[[siem.streams]] {self.name!r}"
        if not isinstance(self.name, str) or not _STREAM_NAME.fullmatch(self.name):
            raise ConfigError(f"[[siem.streams]] name must be lower-case letters, digits, - or _, not {self.name!r}")
        if self.kind not in SIEM_KINDS:
            raise ConfigError(f'{where}: kind must be "syslog" or "http", not {self.kind!r}')
        for name in ("tls",):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{where}: {name} must be true or false")
        size = self.batch_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 5000:
            raise ConfigError(f"{where}: batch_size must be a whole number from 1 to 5000, not {size!r}")
        if self.start not in ("beginning", "now"):
            raise ConfigError(f'{where}: start must be "beginning" or "now", not {self.start!r}')
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ConfigError(f"{where}: ca_file {self.ca_file} is not a readable file")
        if self.kind == "syslog":
            if not self.host or not isinstance(self.host, str):
                raise ConfigError(f"{where}: a syslog stream needs host")
            port = self.port
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise ConfigError(f"{where}: port must be a TCP port number, not {port!r}")
            if self.url or self.token_env or self.token_file:
                raise ConfigError(f"{where}: url, token_env and token_file are for http streams")
            facility = self.facility
            if isinstance(facility, bool) or not isinstance(facility, int) or not 0 <= facility <= 23:
                raise ConfigError(f"{where}: facility must be a number from 0 to 23, not {facility!r}")
            if not _SD_ID.fullmatch(self.sd_id or ""):
                raise ConfigError(f'{where}: sd_id must be 1 to 32 printable characters without = ] " or space')
            if not self.app_name or len(self.app_name) > 48 or not self.app_name.isascii():
                raise ConfigError(f"{where}: app_name must be 1 to 48 ASCII characters")
        else:
            if not isinstance(self.url, str) or urlsplit(self.url).scheme not in ("http", "https"):
                raise ConfigError(f"{where}: an http stream needs url, an http(s) URL")  # not echoed: may be secret
            if not urlsplit(self.url).hostname:
                raise ConfigError(f"{where}: url has no host")
            if self.format not in SIEM_FORMATS:
                raise ConfigError(f'{where}: format must be "hec" or "jsonl", not {self.format!r}')
            if self.host or self.port:
                raise ConfigError(f"{where}: host and port are for syslog streams (an http stream has url)")
            if self.token_env is not None and self.token_file is not None:
                raise ConfigError(f"{where}: give token_env or token_file, not both")
            if self.format == "hec" and self.token_env is None and self.token_file is None:
                raise ConfigError(f"{where}: a HEC stream needs its token: token_env or token_file")
        if self.hostname and (len(self.hostname) > 255 or not self.hostname.isascii() or " " in self.hostname):
            raise ConfigError(f"{where}: hostname must be printable ASCII without spaces")

    @property
    def syslog_port(self) -> int:
        return self.port or (6514 if self.tls else 601)

    @property
    def target(self) -> str:
        """Where it goes, safe to print: host:port, or the URL as ``scheme://host:port/…``."""
        if self.kind == "syslog":
            return f"syslog{'+tls' if self.tls else ''}://{self.host}:{self.syslog_port}"
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


@dataclass(frozen=True)
class SiemSettings:
    streams: tuple[SiemStream, ...] = ()
    # Events are streamed in id order once they are this many seconds old: a transaction still open may commit an
    # event with a lower id than one already visible (PostgreSQL sequences); one later still is sent "late".
    horizon_seconds: float = 5.0
    # How long an id skipped by a stream is watched for (a rolled-back id never comes; a long transaction's does).
    late_window_seconds: int = 3600
    # `smishguard doctor` warns when a stream's oldest unsent event is older than this.
    lag_warning_seconds: int = 300

    def __post_init__(self) -> None:
        for name in ("horizon_seconds", "late_window_seconds", "lag_warning_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or not math.isfinite(value):
                raise ConfigError(f"[siem] {name} must be a number >= 0, not {value!r}")
        names = [stream.name for stream in self.streams]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ConfigError(f"[siem] stream name(s) used twice: {', '.join(twice)}")

    def stream(self, name: str) -> SiemStream | None:
        return next((stream for stream in self.streams if stream.name == name), None)


def siem_settings(data: dict[str, Any]) -> SiemSettings:
    """``[siem]`` with its ``[[siem.streams]]``: each stream checked, one readable line for the first mistake."""
    table = dict(_section(data, "siem"))
    raw_streams = table.pop("streams", [])
    if not isinstance(raw_streams, list) or not all(isinstance(s, dict) for s in raw_streams):
        raise ConfigError("[siem] streams must be an array of tables: [[siem.streams]]")
    streams = []
    for number, raw in enumerate(raw_streams, start=1):
        label = f"[[siem.streams]] {raw.get('name', f'#{number}')!r}"
        if "token" in raw:
            raise ConfigError(
                f"{label}: never write the token in smishguard.toml: name an environment variable (token_env) "
                "or a file (token_file) that holds it"
            )
        for required in ("name", "kind"):
            if required not in raw:
                raise ConfigError(f"{label}: {required} is required")
        unknown = set(raw) - set(SiemStream.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"{label}: unknown setting(s): {', '.join(sorted(unknown))}")
        streams.append(SiemStream(**raw))
    return _build(SiemSettings, {**table, "streams": streams}, "siem")


@dataclass(frozen=True)
class DetectionSettings:
    """``[detection]``: ``min_score`` is where a lookalike verdict starts (0 to 1; 0: every imitation counts).
    docs/detection.md shows what each line catches and flags on real data."""

    min_score: float = 0.0

    def __post_init__(self) -> None:
        value = self.min_score
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigError(f"[detection] min_score must be a number from 0 to 1, not {value!r}")


def detection_settings(data: dict[str, Any]) -> DetectionSettings:
    return _build(DetectionSettings, _section(data, "detection"), "detection")


def _hhmm_range(value: object, label: str) -> None:
    """A time-of-day range as smishguard.timeofday reads it (no spaces; a value that is no string is refused)."""
    try:
        timeofday.parse_range(value)  # anything from the TOML file: parse_range refuses what is not a str
    except ValueError:
        raise ConfigError(f"[training] {label} must be HH:MM-HH:MM, not {value!r}") from None


@dataclass(frozen=True)
class TrainingSettings:
    """``[training]``: awareness modules, compliance and SMS phishing simulations (docs/training.md)."""

    company: str = ""  # {company} in a simulation's text; blank: rp_name
    programme_group: str = "simulations"  # members are in the simulation programme (so is the console toggle)
    simulation_host: str = ""  # host[:port] of the tracked links (/s/<rid>); blank: the origin's host
    simulation_sender: str = ""  # E.164 number drills come from: never the reporting number
    allowed_countries: tuple[str, ...] = ()  # ISO 3166 codes a drill may be sent to; empty: any
    approval_threshold: int = 50  # a launch to more people than this needs a second admin
    results_retention_days: int = 365  # per-person simulation results, then counts per department only
    default_time_zone: str = "UTC"  # for employees without their own
    new_employee_modules: tuple[str, ...] = ()  # module slugs every new employee is assigned
    new_employee_due_days: int = 30
    due_soon_days: int = 7
    remind_days_before: int = 3
    remind_every_days_after: int = 7
    quiet_hours: str = "21:00-08:00"  # reminders wait until after, in the employee's time zone
    lesson_module: str = "smishing"  # the module a drill's click or submit assigns (the bundled one)
    lesson_due_days: int = 14
    lesson_after_seconds: int = 45  # a drill's sign-in page moves on to the lesson by itself after this; 0: never
    email_from: str = ""  # reminders by e-mail too when set (Django's mail framework, SMISHGUARD_EMAIL_*)

    def __post_init__(self) -> None:
        for name in (
            "approval_threshold",
            "results_retention_days",
            "new_employee_due_days",
            "due_soon_days",
            "remind_days_before",
            "remind_every_days_after",
            "lesson_after_seconds",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"[training] {name} must be a whole number of 0 or more, not {value!r}")
        _hhmm_range(self.quiet_hours, "quiet_hours")
        for code in self.allowed_countries:
            if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}", code):
                raise ConfigError(f"[training] allowed_countries: {code!r} is not a two-letter country code (GB)")
        if self.simulation_sender and not re.fullmatch(r"\+[1-9]\d{6,14}", self.simulation_sender):
            raise ConfigError(f"[training] simulation_sender must be an E.164 number, not {self.simulation_sender!r}")
        if self.simulation_host and not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", self.simulation_host):
            raise ConfigError(f"[training] simulation_host must be host[:port], not {self.simulation_host!r}")


def training_settings(data: dict[str, Any]) -> TrainingSettings:
    return _build(TrainingSettings, _section(data, "training"), "training")


def simulation_domain(smishguard: Settings) -> str:
    """The registrable domain of the simulations' tracked links (``[training] simulation_host``, else the origin's
    host), which blocklists, CT alerts and lookalike verdicts leave out; "" when it has none (an IP address, a
    single-label name such as localhost)."""
    return _registrable_of(smishguard.training.simulation_host or urlsplit(smishguard.origin).netloc)


@functools.lru_cache(maxsize=8)
def _registrable_of(host_port: str) -> str:
    from smishguard.engine.domains.errors import InvalidDomain
    from smishguard.engine.domains.hosts import registrable_domain

    host = (urlsplit(f"//{host_port}").hostname or "").rstrip(".")
    if not host or "." not in host:
        return ""
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    try:
        return registrable_domain(host)
    except InvalidDomain:
        return ""


@dataclass(frozen=True)
class Settings:
    origin: str = "http://localhost:8000"
    rp_id: str = "localhost"
    rp_name: str = "smishguard"
    webauthn: WebAuthnPolicy = field(default_factory=WebAuthnPolicy)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    enrolment_ttl_hours: int = 24
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    response: ResponsePolicy = field(default_factory=ResponsePolicy)
    approvals: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    raw: dict[str, Any] = field(default_factory=dict)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For/-Proto are read (docs/deploy.md)
    siem: SiemSettings = field(default_factory=SiemSettings)  # [siem]: the audit trail's streams
    detection: DetectionSettings = field(default_factory=DetectionSettings)  # [detection]: where lookalike starts
    training: TrainingSettings = field(default_factory=TrainingSettings)  # [training]: awareness, simulations
    config_path: str | None = None  # the smishguard.toml read, if any (a reload reads it again)

    @property
    def secure_origin(self) -> bool:
        return urlsplit(self.origin).scheme == "https"


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    known = set(cls.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{section}]: {', '.join(sorted(unknown))}")
    cleaned = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**cleaned)


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read ``smishguard.toml`` (``SMISHGUARD_CONFIG``, else ./smishguard.toml if present) and the env."""
    path = path or env("CONFIG")
    data: dict[str, Any] = {}
    if path is None and Path("smishguard.toml").is_file():
        path = "smishguard.toml"
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
    webauthn = _build(WebAuthnPolicy, _section(data, "webauthn"), "webauthn")
    sessions = _build(SessionPolicy, _section(data, "sessions"), "sessions")
    response = _build(ResponsePolicy, _section(data, "response"), "response")
    approvals = _build(ApprovalPolicy, _section(data, "approvals"), "approvals")
    rate_limits = _build(RateLimits, _section(data, "rate_limits"), "rate_limits")
    origin = env("ORIGIN") or data.get("origin") or Settings.origin
    rp_id = env("RP_ID") or data.get("rp_id") or urlsplit(origin).hostname or "localhost"
    return Settings(
        origin=origin.rstrip("/"),
        rp_id=rp_id,
        rp_name=data.get("rp_name", Settings.rp_name),
        webauthn=webauthn,
        sessions=sessions,
        enrolment_ttl_hours=int(data.get("enrolment_ttl_hours", Settings.enrolment_ttl_hours)),
        twilio=twilio_settings(),
        response=response,
        approvals=approvals,
        raw=data,
        rate_limits=rate_limits,
        trusted_proxies=trusted_proxies(data),
        siem=siem_settings(data),
        detection=detection_settings(data),
        training=training_settings(data),
        config_path=str(Path(path).resolve()) if path is not None else None,
    )
