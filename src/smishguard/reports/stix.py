"""STIX 2.1 bundles of campaigns, for sharing with peers and ISACs (built with the ``stix2`` library).

Per campaign: a ``campaign`` object; an ``indicator`` per domain (``[domain-name:value = '...']``) and per URL
reported (``[url:value = '...']``), each ``indicates`` the campaign; a ``sighting`` per indicator (how many
reports, first and last seen, sighted by us).  Identifiers are UUIDv5 of stable names, so exporting the same
campaign twice gives the same objects (peers update rather than duplicate them).  Official domains of the
protected brands are never exported as indicators.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

import stix2

from smishguard.reports.blocklists import is_official, official_domains, to_ascii
from smishguard.reports.models import Campaign

NAMESPACE = uuid.UUID("6f2b8c1e-3d4a-5b6c-8d7e-9f0a1b2c3d4e")  # smishguard's namespace for STIX ids
MAX_URLS = 100


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(str(p) for p in parts))}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def identity(name: str) -> stix2.Identity:
    return stix2.Identity(
        id=_id("identity", "organisation", name),
        name=name,
        identity_class="organization",
        created="2020-01-01T00:00:00.000Z",
        modified="2020-01-01T00:00:00.000Z",
    )


def _modified(campaign: Campaign) -> datetime:
    moments = [campaign.first_seen, campaign.last_seen]
    for value in (campaign.status_changed_at, campaign.blocklisted_at, campaign.warned_at):
        if value is not None:
            moments.append(value)
    return max(moments)


def _urls(campaign: Campaign, officials: frozenset[str]) -> list[tuple[str, datetime, datetime, int]]:
    """(url, first seen, last seen, times) of the links in the campaign's reports, official ones left out."""
    from urllib.parse import urlsplit

    seen: dict[str, list] = {}
    for created_at, verdict in campaign.reports.order_by("created_at").values_list("created_at", "verdict_json"):
        for url in (verdict or {}).get("urls", []):
            host = (urlsplit(url).hostname or "").lower()
            if not host or is_official(host, officials):
                continue
            row = seen.setdefault(url, [created_at, created_at, 0])
            row[1] = created_at
            row[2] += 1
    return [(url, a, b, n) for url, (a, b, n) in list(seen.items())[:MAX_URLS]]


def campaign_objects(campaign: Campaign, author: stix2.Identity, officials: frozenset[str]) -> list[object]:
    modified = _modified(campaign)
    reporters = campaign.reports.values("reporter_label").distinct().count()
    stix_campaign = stix2.Campaign(
        id=_id("campaign", "smishguard-campaign", campaign.pk),
        created_by_ref=author.id,
        created=campaign.first_seen,
        modified=modified,
        name=f"SMS phishing campaign {campaign.pk}: {campaign.title}",
        description=(
            f"Text messages reported by {reporters} reporter(s) ({campaign.report_count} report(s)); "
            f"verdict {campaign.verdict}; status {campaign.status}"
            + (f"; imitates {campaign.brand}" if campaign.brand else "")
            + "."
        ),
        first_seen=campaign.first_seen,
        last_seen=campaign.last_seen,
        objective="Steal staff credentials and one-time codes through lookalike sign-in pages",
    )
    objects: list[object] = [stix_campaign]
    indicators: list[tuple[stix2.Indicator, datetime, datetime, int]] = []
    for domain in campaign.domains:
        name = to_ascii(domain)
        if name is None or is_official(name, officials):
            continue
        indicator = stix2.Indicator(
            id=_id("indicator", "domain", name),
            created_by_ref=author.id,
            created=campaign.first_seen,
            modified=modified,
            name=f"Lookalike domain {name}",
            indicator_types=["malicious-activity"],
            pattern=f"[domain-name:value = '{_quote(name)}']",
            pattern_type="stix",
            valid_from=campaign.first_seen,
        )
        indicators.append((indicator, campaign.first_seen, campaign.last_seen, max(1, campaign.report_count)))
    for url, first, last, count in _urls(campaign, officials):
        indicator = stix2.Indicator(
            id=_id("indicator", "url", url),
            created_by_ref=author.id,
            created=first,
            modified=max(last, first),
            name=f"Phishing link {url[:200]}",
            indicator_types=["malicious-activity"],
            pattern=f"[url:value = '{_quote(url)}']",
            pattern_type="stix",
            valid_from=first,
        )
        indicators.append((indicator, first, last, count))
    for indicator, first, last, count in indicators:
        objects.append(indicator)
        objects.append(
            stix2.Relationship(
                id=_id("relationship", indicator.id, "indicates", stix_campaign.id),
                created_by_ref=author.id,
                created=indicator.created,
                modified=indicator.modified,
                relationship_type="indicates",
                source_ref=indicator.id,
                target_ref=stix_campaign.id,
            )
        )
        objects.append(
            stix2.Sighting(
                id=_id("sighting", indicator.id, campaign.pk),
                created_by_ref=author.id,
                created=indicator.created,
                modified=max(indicator.modified, last),
                sighting_of_ref=indicator.id,
                first_seen=first,
                last_seen=last if last > first else None,
                count=count,
                where_sighted_refs=[author.id],
                description="Reported by staff as a text message received",
            )
        )
    return objects


def bundle(campaigns: Iterable[Campaign], *, organisation: str | None = None) -> stix2.Bundle:
    """One bundle for the given campaigns (shared indicators appear once)."""
    from django.conf import settings

    author = identity(organisation or settings.SMISHGUARD.rp_name)
    officials = official_domains()
    objects: dict[str, object] = {author.id: author}
    for campaign in campaigns:
        for obj in campaign_objects(campaign, author, officials):
            objects.setdefault(obj.id, obj)  # type: ignore[attr-defined]
    return stix2.Bundle(objects=list(objects.values()))


def bundle_json(campaigns: Iterable[Campaign], *, organisation: str | None = None) -> str:
    return bundle(campaigns, organisation=organisation).serialize(pretty=True)


def bundle_dict(campaigns: Iterable[Campaign]) -> dict[str, object]:
    return json.loads(bundle_json(campaigns))
