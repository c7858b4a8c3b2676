"""The bridge between the database's brands and the pure detection engine: the current matcher, and the
brands and keywords as the console, the CLI and the demo change them."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from smishguard.audit import Action, record
from smishguard.detection.errors import InvalidBrand
from smishguard.detection.models import Brand, Keyword
from smishguard.engine.domains import Brand as EngineBrand
from smishguard.engine.domains import BrandConfigError, InvalidDomain, LookalikeMatcher, normalise_host

_lock = threading.Lock()
_cache: dict[str, object] = {"version": None, "matcher": None}


def _version() -> tuple:
    b = Brand.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    k = Keyword.objects.aggregate(n=Count("id"), at=Max("created_at"))
    return (b["n"], b["at"], k["n"], k["at"])


def engine_brands() -> list[EngineBrand]:
    return [EngineBrand(b.name, tuple(b.domains), tuple(b.tokens)) for b in Brand.objects.all()]


def keywords() -> list[str]:
    """The keywords added in the console (the engine adds its built-in ones)."""
    return list(Keyword.objects.values_list("word", flat=True))


def current_matcher() -> LookalikeMatcher:
    """A matcher over the database's brands, rebuilt only when they change (checked with one cheap query)."""
    version = _version()
    with _lock:
        if _cache["version"] != version or _cache["matcher"] is None:
            _cache["matcher"] = LookalikeMatcher(engine_brands(), keywords())
            _cache["version"] = version
        return _cache["matcher"]  # type: ignore[return-value]


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


def _validated(name: str, domains: Iterable[str], tokens: Iterable[str]) -> tuple[str, list[str], list[str]]:
    """The brand's name, domains and tokens as stored, or InvalidBrand: every check runs before anything is written.

    The engine's own Brand is built from them, so nothing is stored that the matcher would refuse when it is
    rebuilt (a dotless domain or a one-letter token would otherwise break the matcher for every brand).
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidBrand("a brand needs a name of 1 to 100 characters")
    clean_domains = _clean_domains(domains)
    clean_tokens = sorted({t.strip().lower() for t in tokens if t and t.strip()})
    try:
        EngineBrand(name, tuple(clean_domains), tuple(clean_tokens))
    except BrandConfigError as exc:
        raise InvalidBrand(str(exc)) from None
    return name, clean_domains, clean_tokens


def save_brand(
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Add a brand, or replace the domains and tokens of the brand with this name (upsert by name)."""
    name, clean_domains, clean_tokens = _validated(name, domains, tokens)
    with transaction.atomic():
        brand, created = Brand.objects.get_or_create(name=name, defaults={"domains": clean_domains})
        brand.domains = clean_domains
        brand.tokens = clean_tokens
        brand.save()
        record(
            Action.BRAND_SAVED,
            request=request,
            actor=actor,
            subject_label=name,
            created=created,
            domains=clean_domains,
            tokens=clean_tokens,
        )
    return brand


def add_brand(
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Add a new brand (the console's form); a name that is already a brand is refused, never overwritten."""
    name, clean_domains, clean_tokens = _validated(name, domains, tokens)
    if Brand.objects.filter(name=name).exists():
        raise InvalidBrand(_taken(name))
    try:
        with transaction.atomic():
            brand = Brand.objects.create(name=name, domains=clean_domains, tokens=clean_tokens)
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
        **detail,
    )


def _taken(name: str) -> str:
    return f"a brand named {name!r} already exists; edit that one, or choose another name"


def update_brand(
    brand: Brand,
    *,
    name: str,
    domains: Iterable[str],
    tokens: Iterable[str] = (),
    actor=None,
    request=None,
) -> Brand:
    """Change a brand in place (its name too): validated first, then one UPDATE of the same row.

    The brand is never deleted on the way, so its official domains stay protected whatever fails; a new name
    that another brand already has is refused (it would otherwise overwrite that brand).
    """
    name, clean_domains, clean_tokens = _validated(name, domains, tokens)
    if Brand.objects.filter(name=name).exclude(pk=brand.pk).exists():
        raise InvalidBrand(_taken(name))
    try:
        with transaction.atomic():
            current = Brand.objects.select_for_update().filter(pk=brand.pk).first()
            if current is None:
                raise InvalidBrand("this brand was removed meanwhile")
            old_name, old_domains = current.name, list(current.domains)
            current.name, current.domains, current.tokens = name, clean_domains, clean_tokens
            current.save()
            detail: dict[str, object] = {}
            if old_name != name:
                detail["old_name"] = old_name
            if old_domains != clean_domains:
                detail["old_domains"] = old_domains
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
    """Load brands (upsert by name) and keywords (added) from a parsed brands TOML file, all or nothing."""
    with transaction.atomic():
        for b in brands:
            save_brand(name=b.name, domains=b.domains, tokens=b.tokens, actor=actor, request=request)
        added = 0
        for raw in keywords:
            word = raw.strip().lower()
            if word and not Keyword.objects.filter(word=word).exists():
                Keyword.objects.create(word=word)
                added += 1
    return {"brands": len(brands), "keywords_added": added}


__all__ = [
    "BrandConfigError",
    "InvalidBrand",
    "add_brand",
    "current_matcher",
    "delete_brand",
    "engine_brands",
    "import_config",
    "keywords",
    "save_brand",
    "update_brand",
]
