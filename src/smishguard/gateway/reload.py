"""A changed route policy, taken up by a running web server on SIGHUP (``systemctl reload smishguard-web``).

gunicorn's master process has Django set up before it forks its workers (``smishguard serve``), so the workers
inherit its settings.  On SIGHUP gunicorn calls :func:`reload_policy` in the master, then starts new workers and lets
the old ones finish the requests in hand: the new workers decide with the new policy, and no request is dropped.

Only ``[gateway]`` is read again; every other setting needs a restart.  A file that no longer reads, or whose
``[gateway]`` does not load, changes nothing: the running policy stays, and the refusal goes to the log and the
audit trail.  A policy that loads and differs from the running one is audited once per server and change
(``gateway:policy:reloaded``, with both fingerprints).  Every host behind the same load balancer must be reloaded
(docs/gateway.md): each host's fingerprint is in ``smishguard doctor`` and on the console's rules page.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import tomllib
from pathlib import Path

from django.conf import settings
from django.db import connections

from smishguard.audit import Action, record
from smishguard.config import ConfigError
from smishguard.gateway import rules

log = logging.getLogger(__name__)  # every outcome at WARNING: a reload is rare, and the operator looks for it


def reload_policy() -> bool:
    """Read ``[gateway]`` from the settings' smishguard.toml again; True when a changed policy was taken up."""
    running = settings.SMISHGUARD
    path = running.config_path
    before = rules.fingerprint(running.raw)
    try:
        if path is None:
            log.warning("reload: no smishguard.toml was read at start; the route policy stays %s", before)
            return False
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            rules.parse(data)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as exc:
            message = str(exc) if isinstance(exc, ConfigError) else f"cannot read {path}: {exc}"
            log.error("reload: the route policy stays %s: %s", before, message)
            _audit(Action.GATEWAY_POLICY_RELOAD_REFUSED, running=before, error=message[:500])
            return False
        after = rules.fingerprint(data)
        if after == before:
            log.warning("reload: the route policy is unchanged (%s)", before)
            return False
        raw = {key: value for key, value in running.raw.items() if key != "gateway"}
        if "gateway" in data:
            raw["gateway"] = data["gateway"]
        settings.SMISHGUARD = dataclasses.replace(running, raw=raw)
        policy = rules.current()  # parsed here, once: the workers forked next inherit it
        log.warning("reload: the route policy is now %s (was %s; %d rules)", after, before, len(policy.rules))
        _audit(Action.GATEWAY_POLICY_RELOADED, previous=before, fingerprint=after, rules=len(policy.rules))
        return True
    finally:
        connections.close_all()  # nothing of the master's connections may reach the workers it forks next


def _audit(action: Action, **detail: object) -> None:
    try:
        record(action, actor_label="system", via="SIGHUP", host=socket.gethostname(), **detail)
    except Exception:
        log.exception("reload: the audit trail could not record %s", action.value)
