"""The ``[watch]`` table of smishguard.toml, with command-line flags laid over it.

```toml
[watch]
log_list = "/etc/smishguard/log_list.json"   # Chrome's log_list.json (v3) form; relative to this file
batch_size = 256          # entries asked for per request (a log may return fewer: the watcher follows it)
poll_interval = 10.0      # seconds between tree heads once caught up
stats_interval = 60.0     # seconds between figures lines on stderr (0: none)
start = "head"            # where a log seen for the first time starts: "head" or "beginning"
jsonl = "/var/lib/smishguard/ct-alerts.jsonl"   # sink: one JSON line per new alert
webhook = "https://hooks.example.com/ct"        # sink: POST of one JSON object per new alert
webhook_attempts = 8      # deliveries tried before giving up (backoff 5 s, 10 s, ... up to 10 min)
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from smishguard.watch.errors import WatchConfigInvalid

START_CHOICES = ("head", "beginning")


@dataclass(frozen=True, slots=True)
class WatchOptions:
    log_list: str | None = None
    batch_size: int = 256
    poll_interval: float = 10.0
    stats_interval: float = 60.0
    start: Literal["head", "beginning"] = "head"
    jsonl: str | None = None
    webhook: str | None = None
    webhook_attempts: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise WatchConfigInvalid(f"batch_size must be a whole number >= 1, not {self.batch_size!r}")
        if self.batch_size > 10_000:
            raise WatchConfigInvalid(f"batch_size must be at most 10000, not {self.batch_size}")
        for name in ("poll_interval", "stats_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise WatchConfigInvalid(f"{name} must be a number of seconds >= 0, not {value!r}")
        if self.poll_interval == 0:
            raise WatchConfigInvalid("poll_interval must be more than 0 seconds")
        if self.start not in START_CHOICES:
            raise WatchConfigInvalid(f"start must be 'head' or 'beginning', not {self.start!r}")
        if self.webhook is not None and (
            not isinstance(self.webhook, str) or not self.webhook.startswith(("http://", "https://"))
        ):
            raise WatchConfigInvalid("webhook must be an http(s) URL")  # never echoed: a hook URL is a secret
        for name in ("log_list", "jsonl"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise WatchConfigInvalid(f"{name} must be a path (a string)")
        if isinstance(self.webhook_attempts, bool) or not isinstance(self.webhook_attempts, int):
            raise WatchConfigInvalid("webhook_attempts must be a whole number")
        if not 1 <= self.webhook_attempts <= 50:
            raise WatchConfigInvalid("webhook_attempts must be between 1 and 50")


_PATH_KEYS = ("log_list", "jsonl")


def options_from_table(table: Any, *, base_dir: Path | None = None, where: str = "[watch]") -> WatchOptions:
    """``WatchOptions`` from a ``[watch]`` table; relative paths are taken from ``base_dir``."""
    if table is None:
        return WatchOptions()
    if not isinstance(table, dict):
        raise WatchConfigInvalid(f"{where} must be a table")
    known = {f.name for f in fields(WatchOptions)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise WatchConfigInvalid(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values = dict(table)
    if isinstance(values.get("poll_interval"), int) and not isinstance(values["poll_interval"], bool):
        values["poll_interval"] = float(values["poll_interval"])
    for key in _PATH_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value and base_dir is not None and not Path(value).is_absolute():
            values[key] = str(base_dir / value)
    try:
        return WatchOptions(**values)
    except WatchConfigInvalid as exc:
        raise WatchConfigInvalid(f"{where}: {exc}") from None


def watch_table_from_file(path: str | Path) -> dict[str, Any] | None:
    """The ``[watch]`` table of a TOML file, or ``None`` when it has none."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WatchConfigInvalid(f"{p}: cannot read the file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WatchConfigInvalid(f"{p}: not valid TOML: {exc}") from None
    table = doc.get("watch")
    if table is not None and not isinstance(table, dict):
        raise WatchConfigInvalid(f"{p}: [watch] must be a table")
    return table


def with_overrides(options: WatchOptions, **overrides: Any) -> WatchOptions:
    """``options`` with every override that is not ``None`` applied (command-line flags win)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return options
    try:
        return replace(options, **given)
    except WatchConfigInvalid as exc:
        raise WatchConfigInvalid(f"option: {exc}") from None
