"""The bridge between the database's brands and the pure detection engine: the current matcher, and the
brands and keywords as the console, the CLI and the demo change them."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from smishguard.audit import Action, record
from smishguard.config import simulation_domain
from smishguard.detection.errors import InvalidBrand
from smishguard.detection.models import Brand, Keyword
from smishguard.engine.domains import Brand as EngineBrand
from smishguard.engine.domains import BrandConfigError, InvalidDomain, LookalikeMatcher, normalise_host

_lock = threading.Lock()
_cache: dict[str, object] = {"version": None, "matcher": None}


def _version() -> tuple:
    b = Brand.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    k = Keyword.objects.aggregate(n=Count("id"), at=Max("created_at"))
    return (b["n"], b["at"], k["n"], k["at"], simulation_domain(settings.SMISHGUARD))


def engine_brands() -> list[EngineBrand]:
    return [EngineBrand(b.name, tuple(b.domains), tuple(b.tokens), tuple(b.partners)) for b in Brand.objects.all()]


def matcher_brands() -> list[EngineBrand]:
    """The brands as the matcher checks them: each with the simulations' domain (config.simulation_domain) as a
    partner, so that a drill's link is never a lookalike verdict (nor a CT alert) even when it imitates a brand.
    Not for exports: the brands as configured are ``engine_brands()``."""
    brands = engine_brands()
    simulation = simulation_domain(settings.SMISHGUARD)
    if not simulation:
        return brands
    out = []
    for brand in brands:
        official = any(simulation == d or simulation.endswith("." + d) for d in brand.domains)
        if official or simulation in brand.partners:
            out.append(brand)
        else:
            out.append(EngineBrand(brand.name, brand.domains, brand.tokens, (*brand.partners, simulation)))
    return out


def keywords() -> list[str]:
    """The keywords added in the console (the engine adds its built-in ones)."""
    return list(Keyword.objects.values_list("word", flat=True))


def current_matcher() -> LookalikeMatcher:
    """A matcher over the database's brands, rebuilt only when they change (checked with one cheap query)."""
    version = _version()
    with _lock:
        if _cache["version"] != version or _cache["matcher"] is None:
            _cache["matcher"] = LookalikeMatcher(matcher_brands(), keywords(), min_score=min_score())
            _cache["version"] = version
        return _cache["matcher"]  # type: ignore[return-value]


def min_score() -> float:
    """Where "lookalike" starts: ``[detection] min_score`` of smishguard.toml (0: every imitation counts)."""
    return settings.SMISHGUARD.detection.min_score


def _clean_domains(values: Iterable[str]) -> list[str]:
    out = []
    for raw in values:
        try:
            out.append(normalise_host(raw))
        except InvalidDomain as exc:
            raise InvalidBrand(str(exc)) from None
    if not out:
        raise InvalidBrand("a brand needs at least one official domain")
    return sorted(set(out))


def _validated(
    name: str, domains: Iterable[str], tokens: Iterable[str], partners: Iterable[str] = ()
) -> tuple[str, list[str], list[str], list[str]]:
    """The brand's name, domains and tokens as stored, or InvalidBrand: every check runs before anything is written.

    The engine's own Brand is built from them, so nothing is stored that the matcher would refuse when it is
    rebuilt (a dotless domain or a one-letter token would otherwise break the matcher for every brand).
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidBrand("a brand needs a name of 1 to 100 characters")
    clean_domains = _clean_domains(domains)
    clean_tokens = sorted({t.strip().lower() for t in tokens if t and t.strip()})
    try:  # the engine's Brand checks and normalises the partners ("partner 'x y' is not valid: ...")
        engine = EngineBrand(
            name, tuple(clean_domains), tuple(clean_tokens), tuple(p.strip() for p in partners if p and p.strip())
        )
    except BrandConfigError as exc:
        raise InvalidBrand(str(exc)) from None
    return name, clean_domains, clean_tokens, sorted(set(engine.partners))


def save_brand(
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    partners: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Add a brand, or replace the domains, tokens and partners of the brand with this name (upsert by name)."""
    name, clean_domains, clean_tokens, clean_partners = _validated(name, domains, tokens, partners)
    with transaction.atomic():
        brand, created = Brand.objects.get_or_create(name=name, defaults={"domains": clean_domains})
        old = (list(brand.domains), list(brand.tokens), list(brand.partners))
        brand.domains, brand.tokens, brand.partners = clean_domains, clean_tokens, clean_partners
        brand.save()
        changes = {} if created else _changes(brand, *old)
        _record_saved(brand, created=created, actor=actor, request=request, **changes)
    return brand


def add_brand(
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    partners: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Add a new brand (the console's form); a name that is already a brand is refused, never overwritten."""
    name, clean_domains, clean_tokens, clean_partners = _validated(name, domains, tokens, partners)
    if Brand.objects.filter(name=name).exists():
        raise InvalidBrand(_taken(name))
    try:
        with transaction.atomic():
            brand = Brand.objects.create(name=name, domains=clean_domains, tokens=clean_tokens, partners=clean_partners)
            _record_saved(brand, created=True, actor=actor, request=request)
    except IntegrityError:  # another brand took the name between the check and the INSERT
        raise InvalidBrand(_taken(name)) from None
    return brand


def _record_saved(brand: Brand, *, created: bool, actor=None, request=None, **detail: object) -> None:
    record(
        Action.BRAND_SAVED,
        request=request,
        actor=actor,
        subject_label=brand.name,
        created=created,
        domains=list(brand.domains),
        tokens=list(brand.tokens),
        partners=list(brand.partners),
        **detail,
    )


def _changes(brand: Brand, old_domains: list[str], old_tokens: list[str], old_partners: list[str]) -> dict:
    """What an edit changed, for the audit row: the old values of the lists that moved."""
    detail: dict[str, object] = {}
    for key, old, new in (
        ("old_domains", old_domains, brand.domains),
        ("old_tokens", old_tokens, brand.tokens),
        ("old_partners", old_partners, brand.partners),
    ):
        if list(old) != list(new):
            detail[key] = list(old)
    return detail


def _taken(name: str) -> str:
    return f"a brand named {name!r} already exists; edit that one, or choose another name"


def update_brand(
    brand: Brand,
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    partners: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Change a brand in place (its name too): validated first, then one UPDATE of the same row.

    The brand is never deleted on the way, so its official domains stay protected whatever fails; a new name
    that another brand already has is refused (it would otherwise overwrite that brand).
    """
    name, clean_domains, clean_tokens, clean_partners = _validated(name, domains, tokens, partners)
    if Brand.objects.filter(name=name).exclude(pk=brand.pk).exists():
        raise InvalidBrand(_taken(name))
    try:
        with transaction.atomic():
            current = Brand.objects.select_for_update().filter(pk=brand.pk).first()
            if current is None:
                raise InvalidBrand("this brand was removed meanwhile")
            old_name = current.name
            old = (list(current.domains), list(current.tokens), list(current.partners))
            current.name, current.domains, current.tokens = name, clean_domains, clean_tokens
            current.partners = clean_partners
            current.save()
            detail = _changes(current, *old)
            if old_name != name:
                detail["old_name"] = old_name
            _record_saved(current, created=False, actor=actor, request=request, **detail)
    except IntegrityError:  # another brand took the name between the check and the UPDATE
        raise InvalidBrand(_taken(name)) from None
    return current


def delete_brand(brand: Brand, *, actor=None, request=None) -> None:
    with transaction.atomic():
        name = brand.name
        brand.delete()
        record(Action.BRAND_DELETED, request=request, actor=actor, subject_label=name)


def import_config(brands: list[EngineBrand], keywords: list[str], *, actor=None, request=None) -> dict[str, int]:
    """Load brands (upsert by name) and keywords (added) from a parsed brands TOML file, all or nothing; the
    keywords added are audited (a keyword widens what is flagged for every brand)."""
    with transaction.atomic():
        for b in brands:
            save_brand(
                name=b.name, domains=b.domains, tokens=b.tokens, partners=b.partners, actor=actor, request=request
            )
        added: list[str] = []
        for raw in keywords:
            word = raw.strip().lower()
            if word and word not in added and not Keyword.objects.filter(word=word).exists():
                Keyword.objects.create(word=word)
                added.append(word)
        if added:
            record(Action.KEYWORDS_ADDED, request=request, actor=actor, subject_label=", ".join(added), words=added)
    return {"brands": len(brands), "keywords_added": len(added)}


__all__ = [
    "BrandConfigError",
    "InvalidBrand",
    "add_brand",
    "current_matcher",
    "delete_brand",
    "engine_brands",
    "import_config",
    "keywords",
    "matcher_brands",
    "min_score",
    "save_brand",
    "update_brand",
]
