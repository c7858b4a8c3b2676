"""The blocklists for resolvers and proxies: an RPZ zone, a hosts file and a plain list of domains.

They hold every lookalike domain put on the blocklist because of reports (``BlocklistEntry``) and every domain
the Certificate Transparency watcher raised (``watch.alerts``), except alerts an analyst marked false
positive — and never an official domain of a protected brand: the brands are read when the lists are built,
so a brand added later takes its domains off the lists at once.

Each entry is a registrable domain; the RPZ zone blocks it and every name under it (``*.domain``).  The lists
are built on request (``GET /api/blocklists/...``) and written to ``[response] blocklist_dir`` whenever they
change (:func:`publish`).  The RPZ serial goes up whenever the list of domains changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import idna
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smishguard.config import simulation_domain
from smishguard.detection.models import Brand
from smishguard.reports.models import BlocklistEntry, BlocklistState

log = logging.getLogger("smishguard.reports")

FILES = {"rpz": "smishguard.rpz", "hosts": "smishguard.hosts", "domains": "smishguard-domains.txt"}
RPZ_TTL = 300


@dataclass(frozen=True)
class BlockedDomain:
    domain: str  # Unicode form, as the engine reports it
    ascii: str  # the A-label (punycode) form that resolvers see
    brand: str
    sources: tuple[str, ...]  # "report" and/or "ct"
    campaign_ids: tuple[int, ...] = ()
    alert_ids: tuple[int, ...] = ()
    added_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "ascii": self.ascii,
            "brand": self.brand or None,
            "sources": list(self.sources),
            "campaign_ids": list(self.campaign_ids),
            "alert_ids": list(self.alert_ids),
            "added_at": self.added_at.isoformat() if self.added_at else None,
        }


@dataclass(frozen=True)
class Blocklists:
    serial: int
    zone: str
    entries: tuple[BlockedDomain, ...]
    skipped_official: tuple[str, ...] = field(default=())

    @property
    def rpz(self) -> str:
        return render_rpz(self.entries, zone=self.zone, serial=self.serial)

    @property
    def hosts(self) -> str:
        return render_hosts(self.entries, serial=self.serial)

    @property
    def domains(self) -> str:
        return render_domains(self.entries)


def to_ascii(domain: str) -> str | None:
    """The A-label form of ``domain`` (``None`` when it cannot be one: such a name cannot resolve anyway)."""
    try:
        name = idna.encode(domain.strip().rstrip("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    if not name or len(name) > 253 or "." not in name:
        return None
    return name


def official_domains() -> frozenset[str]:
    """Every official domain of every protected brand, in both forms; and the registrable domain of the
    simulations' tracked links (config.simulation_domain), which is never blocked either."""
    names: set[str] = set()
    simulation = simulation_domain(settings.SMISHGUARD)
    if simulation:
        names.add(simulation)
        names.add(to_ascii(simulation) or simulation)
    for domains in Brand.objects.values_list("domains", flat=True):
        for domain in domains or ():
            names.add(domain.lower())
            ascii_form = to_ascii(domain)
            if ascii_form:
                names.add(ascii_form)
    return frozenset(names)


def is_official(domain: str, officials: frozenset[str]) -> bool:
    """True when ``domain`` is an official domain, under one, or above one (blocking it would block ours)."""
    for official in officials:
        if domain == official or domain.endswith("." + official) or official.endswith("." + domain):
            return True
    return False


def entries() -> tuple[tuple[BlockedDomain, ...], tuple[str, ...]]:
    """The blocked domains (sorted by their A-label) and the official ones left out."""
    from smishguard.watch import alerts as ct_alerts

    officials = official_domains()
    found: dict[str, dict[str, object]] = {}
    skipped: set[str] = set()

    def add(domain: str, brand: str, source: str, when: datetime, *, campaign: int | None, alert: int | None) -> None:
        ascii_form = to_ascii(domain)
        if ascii_form is None:
            return
        if is_official(ascii_form, officials) or is_official(domain.lower(), officials):
            skipped.add(ascii_form)
            return
        row = found.setdefault(
            ascii_form,
            {"domain": domain, "brand": brand, "sources": set(), "campaigns": set(), "alerts": set(), "at": when},
        )
        row["sources"].add(source)  # type: ignore[union-attr]
        if campaign is not None:
            row["campaigns"].add(campaign)  # type: ignore[union-attr]
        if alert is not None:
            row["alerts"].add(alert)  # type: ignore[union-attr]
        row["brand"] = row["brand"] or brand
        row["at"] = min(row["at"], when)  # type: ignore[type-var]

    for entry in BlocklistEntry.objects.filter(removed_at__isnull=True):
        add(entry.domain, entry.brand, "report", entry.added_at, campaign=entry.campaign_id, alert=None)
    for alert in ct_alerts.lookalikes():
        add(alert.registrable, alert.brand, "ct", alert.first_seen, campaign=None, alert=alert.pk)
    result = tuple(
        BlockedDomain(
            domain=str(row["domain"]),
            ascii=name,
            brand=str(row["brand"] or ""),
            sources=tuple(sorted(row["sources"])),  # type: ignore[arg-type]
            campaign_ids=tuple(sorted(row["campaigns"])),  # type: ignore[arg-type]
            alert_ids=tuple(sorted(row["alerts"])),  # type: ignore[arg-type]
            added_at=row["at"],  # type: ignore[arg-type]
        )
        for name, row in sorted(found.items())
    )
    return result, tuple(sorted(skipped))


def _serial(names: list[str]) -> int:
    """The RPZ serial for this list of domains: unchanged while the list is, else larger than any before."""
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
    with transaction.atomic():
        state = BlocklistState.objects.select_for_update().order_by("pk").first()
        if state is not None and state.digest == digest:
            return state.serial
        serial = int(time.time())
        if state is None:
            BlocklistState.objects.create(digest=digest, serial=serial)
            return serial
        serial = max(serial, state.serial + 1)
        state.digest, state.serial, state.changed_at = digest, serial, timezone.now()
        state.save()
        return serial


def build() -> Blocklists:
    from django.conf import settings

    found, skipped = entries()
    serial = _serial([e.ascii for e in found])
    return Blocklists(
        serial=serial, zone=settings.SMISHGUARD.response.rpz_zone, entries=found, skipped_official=skipped
    )


def render_rpz(items: tuple[BlockedDomain, ...], *, zone: str, serial: int) -> str:
    """An RPZ zone (BIND, Unbound, PowerDNS): NXDOMAIN for each domain and every name under it."""
    origin = zone.strip(".") + "."
    lines = [
        "; smishguard response policy zone: lookalike domains from reports and Certificate Transparency",
        f"; {len(items)} domain(s); serial {serial}",
        f"$ORIGIN {origin}",
        f"$TTL {RPZ_TTL}",
        f"@ IN SOA localhost. hostmaster.localhost. {serial} 3600 600 604800 {RPZ_TTL}",
        "@ IN NS localhost.",
    ]
    for item in items:
        lines.append(f"{item.ascii} CNAME .")
        lines.append(f"*.{item.ascii} CNAME .")
    return "\n".join(lines) + "\n"


def render_hosts(items: tuple[BlockedDomain, ...], *, serial: int) -> str:
    lines = [f"# smishguard blocklist (lookalike domains), serial {serial}: {len(items)} domain(s)"]
    lines.extend(f"0.0.0.0 {item.ascii}" for item in items)
    return "\n".join(lines) + "\n"


def render_domains(items: tuple[BlockedDomain, ...]) -> str:
    return "".join(f"{item.ascii}\n" for item in items)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(lists: Blocklists, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the three lists into ``directory`` (each replaced atomically: readers never see half a file)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, name in FILES.items():
        path = folder / name
        _write_atomically(path, getattr(lists, kind))
        written[kind] = path
    return written


def publish() -> Blocklists:
    """Build the lists and, when ``[response] blocklist_dir`` is set, write them there.  An I/O error is
    logged, not raised: the lists are still served, and the next change writes them again."""
    from django.conf import settings

    lists = build()
    directory = settings.SMISHGUARD.response.blocklist_dir
    if directory:
        try:
            write_files(lists, directory)
        except OSError as exc:
            log.error("cannot write the blocklists to %s: %s", directory, exc.strerror or exc)
    return lists


_pending = threading.local()


def _publish_on_commit() -> None:
    _pending.queued = False
    publish()


def publish_after_commit() -> None:
    """Publish once the current transaction commits (at once when there is none); many changes in one
    transaction (a batch of CT alerts) publish once."""
    from django.db import connection

    if (
        getattr(_pending, "queued", False)
        and connection.in_atomic_block
        and any(item[1] is _publish_on_commit for item in connection.run_on_commit)
    ):
        return  # already due after this commit (a rolled-back one left no callback: then register again)
    _pending.queued = True
    transaction.on_commit(_publish_on_commit)
