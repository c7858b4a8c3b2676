"""Notification drafts: one text file per customer a breach scope found, from ``[incident] draft_template``.

The template is a ``string.Template`` (``$customer``, ``${host}``; ``$$`` is a dollar sign): it can only put the
named values in, never reach into an object, so a template from the configuration cannot read anything else.
An unknown ``$name`` is refused when the configuration is loaded (``GatewayConfig.ready()``), so a mistake
stops the process with one line instead of a draft with a hole in it.

Files are written all or nothing: every draft is written into a fresh folder inside DIR first and moved into
place only when all are written; a name that is already in DIR is refused before anything is written.  A file's
name is its number and a slug of host and customer id that keeps only ``A-Z a-z 0-9 . _ -`` (and a short hash,
so two ids that slug alike stay apart): whatever a customer id holds (``../``, ``/``, NUL, a newline), the file
lands in DIR.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smishguard.config import ConfigError
from smishguard.gateway.errors import ScopeInputInvalid
from smishguard.gateway.scope import Scope, iso

INCIDENT_KEYS = ("draft_template",)
VARIABLES = ("customer", "host", "reads", "first", "last", "users", "since", "until", "organisation")

DEFAULT_TEMPLATE = """\
Subject: About your data at $organisation

Dear customer $customer,

We are writing to tell you about a security incident.  An account of one of our employees was used by someone
who was not that employee.  Between $first and $last (UTC) that account viewed your record on $host
($reads time(s)).

We have cut off that access, and we are reviewing what was viewed.  We will write again when we know more.  If
you notice anything unusual, reply to this message.

$organisation
"""


@dataclass(frozen=True)
class IncidentSettings:
    draft_template: string.Template


def parse(raw: dict[str, Any]) -> IncidentSettings:
    """``[incident]`` of smishguard.toml: one ConfigError line for a mistake."""
    table = raw.get("incident", {})
    if not isinstance(table, dict):
        raise ConfigError("[incident] must be a table")
    unknown = sorted(set(table) - set(INCIDENT_KEYS))
    if unknown:
        raise ConfigError(f"unknown setting(s) in [incident]: {', '.join(unknown)}")
    text = table.get("draft_template", DEFAULT_TEMPLATE)
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("[incident] draft_template must be a non-empty string")
    template = string.Template(text)
    if not template.is_valid():
        raise ConfigError(
            "[incident] draft_template: a '$' that starts no variable (write $$ for a dollar sign, "
            f"${{name}} or $name for one of {', '.join(VARIABLES)})"
        )
    unknown_vars = sorted(set(template.get_identifiers()) - set(VARIABLES))
    if unknown_vars:
        raise ConfigError(
            f"[incident] draft_template: unknown variable(s) {', '.join('$' + v for v in unknown_vars)} "
            f"(known: {', '.join(VARIABLES)})"
        )
    return IncidentSettings(draft_template=template)


_cache: tuple[object, IncidentSettings] | None = None


def current() -> IncidentSettings:
    """``[incident]`` of the running settings, parsed once per settings object (as ``gateway.rules.current``)."""
    global _cache  # noqa: PLW0603 - one parsed table per settings object, replaced when the settings are
    from django.conf import settings

    loaded = settings.SMISHGUARD
    if _cache is None or _cache[0] is not loaded.raw:
        _cache = (loaded.raw, parse(loaded.raw))
    return _cache[1]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def filename(number: int, host: str, customer: str) -> str:
    """``0007-customers.example.com_42-1a2b3c4d.txt``: a name that is safe whatever host and id hold."""
    slug = _UNSAFE.sub("_", f"{host}_{customer}").strip("._-")[:80] or "customer"
    digest = hashlib.sha256(f"{host}\0{customer}".encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{number:04d}-{slug}-{digest}.txt"


def render(result: Scope, organisation: str) -> list[tuple[str, str]]:
    """(file name, text) for each customer read, in the scope's order."""
    template = current().draft_template
    drafts = []
    for number, c in enumerate(result.customers, start=1):
        text = template.substitute(
            customer=c.customer,
            host=c.host,
            reads=str(c.reads),
            first=iso(c.first),
            last=iso(c.last),
            users=", ".join(c.users),
            since=iso(result.since),
            until=iso(result.until),
            organisation=organisation,
        )
        drafts.append((filename(number, c.host, c.customer), text))
    return drafts


def check_target(folder: str) -> Path:
    """DIR as given: a folder, or a name whose parent folder exists (it is then made).  Refused before the query."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise ScopeInputInvalid(f"--drafts {folder}: not a folder")
    parent = path if path.is_dir() else path.parent
    if not parent.is_dir():
        raise ScopeInputInvalid(f"--drafts {folder}: its parent folder does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScopeInputInvalid(f"--drafts {folder}: cannot write there")
    return path


def write(folder: Path, drafts: list[tuple[str, str]]) -> int:
    """Write every draft into ``folder`` or none: staged in a fresh folder inside it, then moved into place."""
    made = False
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700)
        except OSError as exc:
            raise ScopeInputInvalid(f"--drafts {folder}: cannot make the folder ({exc.strerror})") from None
        made = True
    clashes = [name for name, _ in drafts if os.path.lexists(folder / name)]
    if clashes:
        raise ScopeInputInvalid(f"--drafts {folder}: {clashes[0]} is already there (choose an empty folder)")
    try:
        stage = Path(tempfile.mkdtemp(prefix=".incident-drafts-", dir=folder))
    except OSError as exc:
        if made:
            folder.rmdir()
        raise ScopeInputInvalid(f"--drafts {folder}: cannot write there ({exc.strerror})") from None
    moved: list[Path] = []
    done = False
    try:
        for name, text in drafts:
            fd = os.open(stage / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as out:
                out.write(text)
        for name, _ in drafts:
            os.link(stage / name, folder / name)  # fails, rather than replaces, if the name appeared meanwhile
            moved.append(folder / name)
        done = True
    except OSError as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        raise ScopeInputInvalid(f"--drafts {folder}: cannot write the drafts ({exc.strerror})") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if made and not done:
            with contextlib.suppress(OSError):
                folder.rmdir()
    return len(drafts)
