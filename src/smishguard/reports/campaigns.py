"""Campaigns: reports of the same attack grouped together.

A report joins a campaign (open or contained; a closed campaign takes no new reports) when

1. it links to a registrable domain the campaign's reports link to (official domains of the protected brands
   and URL shorteners do not count: everyone links to them), or else
2. its text is near-identical to one of the campaign's texts once both are normalised: lower case, links →
   ``<url>``, e-mail addresses → ``<email>``, numbers → ``<n>``, employees' names → ``<name>``, punctuation
   dropped; "near-identical" is a Levenshtein similarity (rapidfuzz's ``fuzz.ratio``) of at least
   :data:`SIMILARITY` between the normalised texts of at least :data:`MIN_TOKENS` words.

Otherwise it starts a campaign of its own.  When several campaigns match, the oldest wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.utils import timezone
from rapidfuzz import fuzz, process

from smishguard.reports.models import Campaign, Report

SIMILARITY = 88.0  # fuzz.ratio of the normalised texts, 0..100
MIN_TOKENS = 5  # shorter texts ("ok", "call me") are too common to say anything
TEXT_LOOKBACK = timedelta(days=30)  # texts compared against: reports of the last 30 days
MAX_CANDIDATES = 5000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
_TOKEN = re.compile(r"<url>|<email>|<n>|\w+")
NAME = "<name>"
_VERDICT_RANK = {"benign": 0, "spam": 1, "smishing": 2}


def worst(a: str, b: str) -> str:
    """The more serious of two verdicts (smishing > spam > benign)."""
    return a if _VERDICT_RANK.get(a, 0) >= _VERDICT_RANK.get(b, 0) else b


def name_words(names: Iterable[str]) -> frozenset[str]:
    """Every word of the given people's names, lower case (two letters or more)."""
    words: set[str] = set()
    for name in names:
        words.update(w for w in re.findall(r"\w+", name.lower()) if len(w) >= 2 and not w.isdigit())
    return frozenset(words)


def normalise(text: str, *, link_texts: Sequence[str] = (), names: frozenset[str] = frozenset()) -> str:
    """The text with what changes from one victim to the next replaced: links, addresses, numbers, names.

    ``link_texts`` are the links as written in the text (the detection engine finds them, defanged ones
    too); ``names`` are lower-case words of employees' names.
    """
    out = text
    for raw in sorted({r for r in link_texts if r}, key=len, reverse=True):
        out = out.replace(raw, " <url> ")
    out = _EMAIL.sub(" <email> ", out)
    out = out.lower()
    out = _NUMBER.sub(" <n> ", out)
    tokens: list[str] = []
    for word in _TOKEN.findall(out):
        item = NAME if word in names else word
        if item == NAME and tokens and tokens[-1] == NAME:
            continue  # "Sam Second" is one name
        tokens.append(item)
    return " ".join(tokens)


def similar(a: str, b: str) -> bool:
    """True when two normalised texts are near-identical (and long enough to say so)."""
    if len(a.split()) < MIN_TOKENS or len(b.split()) < MIN_TOKENS:
        return False
    return fuzz.ratio(a, b) >= SIMILARITY


def _by_domain(domains: Sequence[str]) -> Campaign | None:
    if not domains:
        return None
    wanted = set(domains)
    rows = Campaign.objects.exclude(status=Campaign.Status.CLOSED).order_by("first_seen", "id")
    for pk, campaign_domains in rows.values_list("pk", "domains").iterator():
        if wanted.intersection(campaign_domains or ()):
            return Campaign.objects.get(pk=pk)
    return None


def _by_text(fingerprint: str, *, exclude_report: int | None) -> Campaign | None:
    if len(fingerprint.split()) < MIN_TOKENS:
        return None
    since = timezone.now() - TEXT_LOOKBACK
    rows = (
        Report.objects.filter(campaign__isnull=False, created_at__gte=since)
        .exclude(campaign__status=Campaign.Status.CLOSED)
        .exclude(pk=exclude_report)
        .exclude(fingerprint="")
        .order_by("campaign__first_seen", "campaign_id")
        .values_list("fingerprint", "campaign_id")[:MAX_CANDIDATES]
    )
    choices: dict[str, int] = {}
    for text, campaign_id in rows:
        choices.setdefault(text, campaign_id)  # the oldest campaign for each distinct text
    if not choices:
        return None
    candidates = [c for c in choices if len(c.split()) >= MIN_TOKENS]
    found = process.extract(fingerprint, candidates, scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=None)
    if not found:
        return None
    campaign_ids = {choices[text] for text, _score, _index in found}
    return Campaign.objects.filter(pk__in=campaign_ids).order_by("first_seen", "id").first()


def assign(report: Report, *, brand: str = "") -> tuple[Campaign | None, bool]:
    """Put ``report`` into its campaign (found or new); returns ``(campaign, created)``.  Call in a transaction.

    A report judged benign joins a campaign it matches (the same attack, worded so the engine missed it) but
    never starts one: it is kept for review, ``(None, False)``, until an analyst marks it an attack.
    """
    campaign = _by_domain(report.domains) or _by_text(report.fingerprint, exclude_report=report.pk)
    if campaign is None and (report.verdict or "benign") == "benign":
        return None, False
    created = campaign is None
    if campaign is None:
        campaign = Campaign.objects.create(
            verdict=report.verdict or "benign",
            brand=brand,
            domains=sorted(set(report.domains)),
            first_seen=report.created_at,
            last_seen=report.created_at,
            report_count=1,
        )
    else:
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.domains = sorted(set(campaign.domains) | set(report.domains))
        campaign.verdict = worst(campaign.verdict, report.verdict or "benign")
        campaign.brand = campaign.brand or brand
        campaign.first_seen = min(campaign.first_seen, report.created_at)
        campaign.last_seen = max(campaign.last_seen, report.created_at)
        campaign.report_count = campaign.reports.count() + (0 if report.campaign_id == campaign.pk else 1)
        campaign.save()
    Report.objects.filter(pk=report.pk).update(campaign=campaign)
    report.campaign = campaign
    return campaign, created
