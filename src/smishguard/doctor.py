"""``smishguard doctor``: what is configured, what is reachable, what is unsafe; one line each.

The configuration is read as the server reads it (smishguard.config), before Django starts, so that a setting
the server would refuse (a placeholder secret key) is reported as unsafe rather than stopping the report.  Then
Django is started, as any command starts it (nothing is created: a folder that is not set up says so), and the
database, its migrations and Redis are asked what /readyz asks (smishguard.health).  No password or key is
ever printed: URLs go through smishguard.redaction.redact_credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from smishguard import config
from smishguard.redaction import redact_credentials

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass
class Report:
    configured: dict[str, str] = field(default_factory=dict)
    reachable: dict[str, str] = field(default_factory=dict)  # "ok", "not configured", or what is wrong
    unsafe: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.unsafe and all(state in {"ok", "not configured"} for state in self.reachable.values())

    def lines(self) -> list[str]:
        out = [f"configured  {name:<16} {value}" for name, value in self.configured.items()]
        out += [f"reachable   {name:<16} {value}" for name, value in self.reachable.items()]
        out += [f"unsafe      {name:<16} {value}" for name, value in self.unsafe.items()]
        out.append("ok: nothing unsafe, everything reachable" if self.healthy else "NOT OK: see the lines above")
        return out

    def as_json(self) -> dict[str, object]:
        return {
            "configured": self.configured,
            "reachable": self.reachable,
            "unsafe": self.unsafe,
            "ok": self.healthy,
        }


def describe_database(url: str) -> str:
    """The database's vendor and where it is, without the password: "postgresql on db:5432, database x"."""
    import dj_database_url

    try:
        parsed = dj_database_url.parse(url)
    except ValueError:
        return "[an unreadable SMISHGUARD_DATABASE_URL]"
    engine = str(parsed.get("ENGINE", "")).rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite at {parsed.get('NAME')}"
    host = parsed.get("HOST") or "localhost (socket)"
    port = f":{parsed['PORT']}" if parsed.get("PORT") else ""
    options = parsed.get("OPTIONS") or {}
    sslmode = f", sslmode={options['sslmode']}" if "sslmode" in options else ""
    user = f", user {parsed['USER']}" if parsed.get("USER") else ""
    return f"{engine} on {host}{port}, database {parsed.get('NAME')}{user}{sslmode}"


def _secret_key_problem() -> str | None:
    key = config.env("SECRET_KEY")
    where = "SMISHGUARD_SECRET_KEY"
    if not key:
        path = config.data_dir() / "secret_key"
        where = f"the secret key in {path}"
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            return None  # none yet: `smishguard migrate` makes a random one
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or exc}"
    weakness = config.secret_key_weakness(key)
    return None if weakness is None else f"{where} {weakness}"


def _origin_problem(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme == "http" and (parts.hostname or "") not in LOCAL_HOSTS:
        return f"{origin} is plain http on a host that is not this machine: put TLS in front and use https"
    return None


def _configured(report: Report) -> config.Settings | None:
    try:
        settings = config.load()
    except config.ConfigError as exc:
        report.unsafe["configuration"] = f"refused: {exc}"
        return None
    report.configured["database"] = describe_database(config.database_url())
    owner_url = config.migrate_database_url()
    if owner_url is not None:
        report.configured["migrate_database"] = describe_database(owner_url)
    try:
        redis_url = config.redis_url()
    except config.ConfigError as exc:
        report.unsafe["redis_url"] = str(exc)
        redis_url = None
    report.configured["redis"] = redact_credentials(redis_url) if redis_url else "not configured"
    report.configured["origin"] = settings.origin
    report.configured["rp_id"] = settings.rp_id
    report.configured["twilio"] = "configured" if settings.twilio.configured else "not configured"
    report.configured["trusted_proxies"] = ", ".join(settings.trusted_proxies) or "none"
    streams = [f"{stream.name} ({stream.target})" for stream in settings.siem.streams]
    report.configured["siem"] = ", ".join(streams) or "no streams"
    try:
        report.configured["log_format"] = config.log_format()
    except config.ConfigError as exc:
        report.unsafe["log_format"] = str(exc)
    try:
        token = config.metrics_token()
    except config.ConfigError as exc:
        report.unsafe["metrics_token"] = str(exc)
    else:
        report.configured["metrics"] = "token set: GET /metrics" if token else "not configured (/metrics answers 404)"
    return settings


def _unsafe(report: Report, settings: config.Settings | None) -> None:
    if config.env_bool("DEBUG", False):
        report.unsafe["debug"] = "SMISHGUARD_DEBUG is on: tracebacks and settings are shown to anyone"
    try:
        problem = _secret_key_problem()
    except config.ConfigError as exc:  # the data folder is a file
        problem = str(exc)
    if problem is not None:
        report.unsafe["secret_key"] = problem
    if settings is not None:
        problem = _origin_problem(settings.origin)
        if problem is not None:
            report.unsafe["origin"] = problem
        for stream in settings.siem.streams:
            problem = _siem_in_clear(stream)
            if problem is not None:
                report.unsafe[f"siem {stream.name}"] = problem


def _siem_in_clear(stream: config.SiemStream) -> str | None:
    """A stream that sends the audit trail (and, for HTTP, its token) unencrypted to another machine."""
    if stream.kind == "syslog":
        host, clear = stream.host, not stream.tls
    else:
        host, clear = urlsplit(stream.url).hostname or "", urlsplit(stream.url).scheme == "http"
    if clear and host not in LOCAL_HOSTS:
        return f"{stream.target} is not encrypted and not on this machine: use TLS"
    return None


def _reachable(report: Report) -> None:
    from smishguard.clitools import CommandError, setup_django

    try:
        setup_django()
    except (CommandError, config.ConfigError) as exc:
        report.reachable["database"] = f"not checked: {exc}"
        _redis_without_django(report)
        return
    from smishguard.health import readiness

    checks = readiness()
    report.reachable["database"] = checks["database"]
    migrations = checks["migrations"]
    report.reachable["migrations"] = (
        f"{migrations}: run `smishguard migrate`" if migrations.endswith("not applied") else migrations
    )
    report.reachable["redis"] = checks["redis"]
    if checks["database"] == "ok":
        _database_role(report)
    if checks["database"] == "ok" and not migrations.endswith("not applied"):
        siem_streams(report)
        gateway_policy(report)
        gateway_signing_key(report)


def _database_role(report: Report) -> None:
    """Production mode's boundary: the services' role may only insert into and read the audit table and run no
    DDL (smishguard.dbroles); an owner or superuser connection is unsafe.  SQLite has no roles."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        report.configured["database_role"] = "none (SQLite: the audit table's triggers refuse UPDATE and DELETE)"
        return
    from smishguard import dbroles

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            (role,) = cursor.fetchone()
        problems = dbroles.restriction_problems(connection)
    except DatabaseError as exc:
        report.reachable["database_role"] = f"not checked: {str(exc).strip().splitlines()[0]}"
        return
    if problems:
        report.configured["database_role"] = f"{role}: not restricted"
        report.unsafe["database_role"] = (
            f"the services connect as {role}, and {'; '.join(problems)}: connect them as a restricted role and "
            "migrate as the owner (SMISHGUARD_MIGRATE_DATABASE_URL, docs/deploy.md)"
        )
    else:
        report.configured["database_role"] = f"{role}: restricted (audit table: insert and read only; no DDL)"


def siem_streams(report: Report) -> None:
    """Each SIEM stream: its receiver answers a TCP connection, and the stream is not further behind than
    ``[siem] lag_warning_seconds`` (else how far behind, and the last error)."""
    import socket

    from django.conf import settings

    from smishguard.siem.streaming import status

    for stream in status():
        config = settings.SMISHGUARD.siem.stream(stream.name)
        if config is None:
            continue
        problems = []
        host, port = (config.host, config.syslog_port) if config.kind == "syslog" else _http_address(config.url)
        try:
            socket.create_connection((host, port), timeout=2.0).close()
        except OSError as exc:
            problems.append(f"{stream.target} does not answer ({exc.strerror or type(exc).__name__})")
        if stream.behind:
            problems.append(f"{stream.backlog} event(s) waiting, the oldest {stream.lag_seconds:.0f} s")
            if stream.batch and stream.batch["last_error"]:
                problems.append(f"last error: {stream.batch['last_error']}")
        report.reachable[f"siem {stream.name}"] = "; ".join(problems) or "ok"


def gateway_policy(report: Report) -> None:
    """The gateway's route policy (it loaded, or Django would not have started): its size, and a rule naming a
    group that does not exist, which `smishguard gateway check` refuses (docs/gateway.md)."""
    from smishguard.gateway import loading, rules

    policy = rules.current()
    report.configured["gateway"] = (
        f"policy {rules.fingerprint()}: {len(policy.rules)} rule(s), default_policy {policy.default_policy}, "
        f"trusted proxies {', '.join(policy.trusted_proxies)}"
    )
    try:
        loading.check_groups(policy)
    except config.ConfigError as exc:
        report.unsafe["gateway"] = str(exc)


def gateway_signing_key(report: Report) -> None:
    """The key that signs X-Smishguard-Assertion decrypts with this SECRET_KEY (else no assertion is sent)."""
    from smishguard.gateway import keys

    problem = keys.problem()
    if problem is not None:
        report.unsafe["gateway_key"] = problem


def _http_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _redis_without_django(report: Report) -> None:
    try:
        url = config.redis_url()
    except config.ConfigError:
        url = None
    if url is None:
        report.reachable["redis"] = "not configured"
        return
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        report.reachable["redis"] = "ok" if client.ping() else "unreachable"
    except redis.RedisError:
        report.reachable["redis"] = "unreachable"


def examine() -> Report:
    report = Report()
    settings = _configured(report)
    _unsafe(report, settings)
    _reachable(report)
    return report
