"""``[gateway]`` and its ``[[gateway.rules]]`` from smishguard.toml: read, checked, and kept as frozen rules.

Pure Python over the TOML table (``settings.SMISHGUARD.raw``); ``current()`` gives the policy of the running
settings, and ``GatewayConfig.ready()`` asks for it, so a policy that does not load stops the process with one
readable line.  That a rule's groups exist needs the database: ``smishguard.gateway.loading.check_groups``.

Each mistake is one ConfigError line naming the rule (``[[gateway.rules]] #2``) and the key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

from smishguard.config import ConfigError, parse_trusted_proxies
from smishguard.gateway.regex_safety import backtracking_risk

POLICIES = ("deny", "signed_in", "step_up")
DEFAULT_POLICIES = ("deny", "signed_in")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1/32", "::1/128")
DEFAULT_REAUTH_MAX_AGE = 900
RULE_KEYS = (
    "domain",
    "resources",
    "methods",
    "subject",
    "networks",
    "policy",
    "reauth_max_age",
    "training_required",
)
GATEWAY_KEYS = ("default_policy", "trusted_proxies", "rules", "containment")
CUSTOMER_GROUP = "customer"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    """One ``[[gateway.rules]]`` table, numbered from 1 in file order."""

    number: int
    domains: tuple[str, ...]  # exact names, or "*.example.com" (any name below example.com, not example.com)
    resources: tuple[re.Pattern[str], ...]  # empty: every path
    methods: tuple[str, ...]  # empty: every method
    subjects: tuple[str, ...]  # "group:NAME" / "user:EMAIL"; empty: anyone signed in (or not: see the policy)
    networks: tuple[Network, ...]  # empty: from anywhere
    policy: str
    reauth_max_age: int | None  # step_up only
    # ``training_required = true``: an employee it would admit must also meet the "training" requirement (no
    # overdue training: gateway.requirements); refused with training_overdue otherwise.
    training_required: bool = False

    @property
    def requirements(self) -> tuple[str, ...]:
        """The names of the requirements (gateway.requirements) the rule adds to its policy."""
        return ("training",) if self.training_required else ()

    def matches_domain(self, host: str) -> bool:
        return any(_domain_matches(pattern, host) for pattern in self.domains)

    def match_resource(self, path: str) -> re.Match[str] | bool | None:
        """The first resource's match of ``path`` (a Match), True when the rule has no resources, else None."""
        if not self.resources:
            return True
        for pattern in self.resources:
            found = pattern.search(path)
            if found is not None:
                return found
        return None

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(s.removeprefix("group:") for s in self.subjects if s.startswith("group:"))

    @property
    def users(self) -> frozenset[str]:
        return frozenset(s.removeprefix("user:") for s in self.subjects if s.startswith("user:"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "domain": list(self.domains),
            "resources": [p.pattern for p in self.resources],
            "methods": list(self.methods),
            "subject": list(self.subjects),
            "networks": [str(n) for n in self.networks],
            "policy": self.policy,
            "reauth_max_age": self.reauth_max_age,
            "training_required": self.training_required,
        }

    def describe(self) -> str:
        """One line: what the rule covers and what it asks."""
        parts = [f"rule #{self.number}: {', '.join(self.domains)}"]
        if self.resources:
            parts.append(" ".join(p.pattern for p in self.resources))
        if self.methods:
            parts.append("methods " + ",".join(self.methods))
        if self.subjects:
            parts.append("subject " + ",".join(self.subjects))
        if self.networks:
            parts.append("networks " + ",".join(str(n) for n in self.networks))
        policy = self.policy + (f" (reauth_max_age {self.reauth_max_age} s)" if self.policy == "step_up" else "")
        if self.training_required:
            policy += ", training required"
        return " ".join(parts) + f" -> {policy}"


@dataclass(frozen=True)
class GatewayPolicy:
    default_policy: str = "deny"
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    containment: ContainmentPolicy = field(default_factory=lambda: ContainmentPolicy())  # noqa: PLW0108 - defined below

    @property
    def groups(self) -> frozenset[str]:
        """Every group a rule names."""
        return frozenset().union(*(rule.groups for rule in self.rules))

    def as_dict(self) -> dict[str, Any]:
        return {
            "default_policy": self.default_policy,
            "trusted_proxies": list(self.trusted_proxies),
            "rules": [rule.as_dict() for rule in self.rules],
        }

    def knows_host(self, host: str) -> bool:
        return any(rule.matches_domain(host) for rule in self.rules)


def _domain_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def parse(data: dict[str, Any]) -> GatewayPolicy:
    """The ``[gateway]`` table of the whole TOML document ``data``; no table: default deny, no rules."""
    table = data.get("gateway", {})
    if not isinstance(table, dict):
        raise ConfigError("[gateway] must be a table")
    unknown = sorted(set(table) - set(GATEWAY_KEYS))
    if unknown:
        raise ConfigError(f"[gateway]: unknown key(s): {', '.join(unknown)}")
    default_policy = table.get("default_policy", "deny")
    if default_policy not in DEFAULT_POLICIES:
        raise ConfigError(f'[gateway] default_policy must be "deny" or "signed_in", not {default_policy!r}')
    proxies = parse_trusted_proxies(table.get("trusted_proxies", list(DEFAULT_TRUSTED_PROXIES)), "[gateway]")
    if any(ipaddress.ip_network(p).prefixlen == 0 for p in proxies):
        raise ConfigError("[gateway] trusted_proxies must not hold everything (0.0.0.0/0 or ::/0)")
    raw_rules = table.get("rules", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise ConfigError("[gateway] rules must be an array of tables: [[gateway.rules]]")
    rules = tuple(parse_rule(number, raw) for number, raw in enumerate(raw_rules, start=1))
    containment = parse_containment(table.get("containment", {}))
    return GatewayPolicy(default_policy=default_policy, trusted_proxies=proxies, rules=rules, containment=containment)


def parse_rule(number: int, raw: dict[str, Any]) -> Rule:
    where = f"[[gateway.rules]] #{number}"
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)} (known: {', '.join(RULE_KEYS)})")
    for required in ("domain", "policy"):
        if required not in raw:
            raise ConfigError(f"{where}: {required} is required")
    policy = raw["policy"]
    if policy not in POLICIES:
        raise ConfigError(f'{where}: policy must be "deny", "signed_in" or "step_up", not {_shown(policy)}')
    reauth = raw.get("reauth_max_age")
    if reauth is not None and policy != "step_up":
        raise ConfigError(f"{where}: reauth_max_age is for step_up rules only (this one is {policy})")
    if policy == "step_up":
        reauth = DEFAULT_REAUTH_MAX_AGE if reauth is None else reauth
        if isinstance(reauth, bool) or not isinstance(reauth, int) or reauth < 1:
            raise ConfigError(f"{where}: reauth_max_age must be a whole number of seconds >= 1, not {_shown(reauth)}")
    training = raw.get("training_required", False)
    if not isinstance(training, bool):
        raise ConfigError(f"{where}: training_required must be true or false, not {_shown(training)}")
    if training and policy == "deny":
        raise ConfigError(f"{where}: training_required is for signed_in and step_up rules (this one is deny)")
    return Rule(
        number=number,
        domains=tuple(_domain(where, d) for d in _strings(where, "domain", raw["domain"], allow_one=True)),
        resources=tuple(_resource(where, r) for r in _strings(where, "resources", raw.get("resources", []))),
        methods=tuple(_method(where, m) for m in _strings(where, "methods", raw.get("methods", []))),
        subjects=tuple(_subject(where, s) for s in _strings(where, "subject", raw.get("subject", []))),
        networks=tuple(_network(where, n) for n in _strings(where, "networks", raw.get("networks", []))),
        policy=policy,
        reauth_max_age=reauth,
        training_required=training,
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _strings(where: str, key: str, value: object, *, allow_one: bool = False) -> list[str]:
    if allow_one and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        kind = "a string or a list of strings" if allow_one else "a list of strings"
        raise ConfigError(f"{where}: {key} must be {kind}, not {_shown(value)}")
    if allow_one and not value:
        raise ConfigError(f"{where}: {key} must not be empty")
    return value


def _domain(where: str, value: str) -> str:
    name = value.strip().lower().removesuffix(".")
    labels = name.removeprefix("*.").split(".")
    if not name or "*" in name.removeprefix("*.") or not all(_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(f'{where}: domain {_shown(value)} is not a host name or "*.example.com"')
    if name.startswith("*.") and len(labels) < 2:
        raise ConfigError(f"{where}: domain {_shown(value)} is too wide: name at least two labels after *.")
    return name


def _resource(where: str, value: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise ConfigError(f"{where}: resources: {_shown(value)} does not compile: {exc}") from None
    risk = backtracking_risk(value)
    if risk is not None:
        raise ConfigError(f"{where}: resources: {_shown(value)} can backtrack catastrophically ({risk})")
    return pattern


def _method(where: str, value: str) -> str:
    if value.upper() not in METHODS:
        raise ConfigError(f"{where}: methods: {_shown(value)} is not one of {', '.join(METHODS)}")
    return value.upper()


def _subject(where: str, value: str) -> str:
    kind, colon, name = value.partition(":")
    name = name.strip()
    if not colon or kind not in ("group", "user") or not name:
        raise ConfigError(f'{where}: subject {_shown(value)} must be "group:NAME" or "user:EMAIL"')
    if kind == "user":
        if "@" not in name or any(c.isspace() for c in name):
            raise ConfigError(f"{where}: subject {_shown(value)}: not an email address")
        name = name.lower()
    return f"{kind}:{name}"


def _network(where: str, value: str) -> Network:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ConfigError(f"{where}: networks: {_shown(value)} is not an IP address or CIDR") from None


# --- [gateway.containment] (the access record's containment: gateway.containment) --------------------------------

CONTAINMENT_KEYS = ("max_customers", "window_minutes", "new_network_max_customers", "new_network_minutes")


@dataclass(frozen=True)
class Limits:
    """When one employee has read too many distinct customers: more than ``max_customers`` within
    ``window_minutes``; ``new_network_max_customers`` instead in a session's first ``new_network_minutes`` when it
    was opened from a network new for the employee."""

    max_customers: int = 20
    window_minutes: int = 10
    new_network_max_customers: int = 5
    new_network_minutes: int = 60

    def threshold(self, *, new_network: bool) -> int:
        """The number of distinct customers that may be read in the window (one more is contained)."""
        return min(self.max_customers, self.new_network_max_customers) if new_network else self.max_customers


@dataclass(frozen=True)
class ContainmentPolicy:
    """``[gateway.containment]`` and its ``[gateway.containment.groups.NAME]`` tables (a group's table inherits
    the keys it leaves out from ``[gateway.containment]``)."""

    default: Limits = field(default_factory=Limits)
    groups: tuple[tuple[str, Limits], ...] = ()

    @property
    def group_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.groups)

    def limits_for(self, groups: frozenset[str]) -> Limits:
        """The limits of an employee in ``groups``: among their groups that have a table, the one with the lowest
        ``max_customers`` (ties: the longer window, then the lower new-network threshold); none: the defaults."""
        own = [limits for name, limits in self.groups if name in groups]
        if not own:
            return self.default
        return min(
            own, key=lambda limits: (limits.max_customers, -limits.window_minutes, limits.new_network_max_customers)
        )


def parse_containment(table: object) -> ContainmentPolicy:
    where = "[gateway.containment]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - {*CONTAINMENT_KEYS, "groups"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s): {', '.join(unknown)} (known: {', '.join(CONTAINMENT_KEYS)}, groups)"
        )
    default = _limits(where, table, Limits())
    groups_table = table.get("groups", {})
    if not isinstance(groups_table, dict) or not all(isinstance(v, dict) for v in groups_table.values()):
        raise ConfigError(f"{where} groups must be tables: [gateway.containment.groups.NAME]")
    groups = []
    for name, raw in sorted(groups_table.items()):
        group_where = f"[gateway.containment.groups.{name}]"
        if not name.strip():
            raise ConfigError(f"{group_where}: a group needs a name")
        unknown = sorted(set(raw) - set(CONTAINMENT_KEYS))
        if unknown:
            raise ConfigError(
                f"{group_where}: unknown key(s): {', '.join(unknown)} (known: {', '.join(CONTAINMENT_KEYS)})"
            )
        groups.append((name, _limits(group_where, raw, default)))
    return ContainmentPolicy(default=default, groups=tuple(groups))


def _limits(where: str, raw: dict[str, Any], inherited: Limits) -> Limits:
    values = {}
    for key in CONTAINMENT_KEYS:
        value = raw.get(key, getattr(inherited, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: {key} must be a whole number >= 1, not {_shown(value)}")
        values[key] = value
    return Limits(**values)


_cache: tuple[dict[str, Any], GatewayPolicy] | None = None


def protects_host(host: str) -> bool:
    """Whether a rule of the running policy names ``host`` (exact or "*.example.com"): a sign-in may return there
    (registered with ``accounts.redirects`` in ``GatewayConfig.ready()``)."""
    return current().knows_host(host)


def current() -> GatewayPolicy:
    """The policy of the running settings (``settings.SMISHGUARD.raw``), parsed once per settings object."""
    global _cache  # noqa: PLW0603 - one parsed policy per settings object, replaced when the settings are
    from django.conf import settings

    loaded = settings.SMISHGUARD
    if _cache is None or _cache[0] is not loaded.raw:  # the dict is held, so its identity is not reused
        _cache = (loaded.raw, parse(loaded.raw))
    return _cache[1]


def fingerprint(data: dict[str, Any] | None = None) -> str:
    """A short digest of the ``[gateway]`` table of ``data`` (default: the running settings): the same policy gives
    the same fingerprint on every host, whatever the file's layout or comments, so hosts can be compared."""
    if data is None:
        from django.conf import settings

        data = settings.SMISHGUARD.raw
    table = data.get("gateway", {})
    text = json.dumps(table, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
