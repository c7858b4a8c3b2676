"""The registry of the menu's entries: the portal's and the console's.

Each app registers its own entries in its ``AppConfig.ready()`` (DESIGN.md: the registry lives low, in accounts,
so that every app can fill it; nothing here names another app's pages).  ``web`` renders the menu from it in
base.html (web.context.navigation).  A section is a heading with its entries; an entry names its page by URL
name, is marked as the current page when the page's ``nav`` context value equals its ``key``, and may carry a
badge: a count shown beside it (accounts' pending four-eyes requests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

if TYPE_CHECKING:
    from django.http import HttpRequest

# The sections every install has; an app may add its own with register_section.
ACCOUNT = "account"  # "My account": every signed-in employee's portal
CONSOLE = "console"  # "Security console": admins only


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    order: int
    admin_only: bool


@dataclass(frozen=True)
class Entry:
    key: str  # the page's ``nav`` value, which marks this entry as the current page
    label: str
    url_name: str
    section: str
    order: int
    admin_only: bool
    badge: Callable[[HttpRequest], int] | None = None


@dataclass(frozen=True)
class Item:
    """An entry as one request sees it (the page marks it as current when its ``nav`` value equals ``key``)."""

    key: str
    label: str
    url: str
    count: int


@dataclass(frozen=True)
class Menu:
    section: Section
    items: tuple[Item, ...]


_sections: dict[str, Section] = {}
_entries: dict[str, Entry] = {}


def register_section(key: str, *, heading: str, order: int, admin_only: bool) -> None:
    """Add a section (idempotent: two apps may both add the section they share, with the same fields)."""
    section = Section(key, heading, order, admin_only)
    known = _sections.get(key)
    if known is not None and known != section:
        raise ValueError(f"the menu section {key!r} is already registered differently")
    _sections[key] = section


def register(
    key: str,
    *,
    label: str,
    url_name: str,
    section: str,
    order: int,
    admin_only: bool | None = None,
    badge: Callable[[HttpRequest], int] | None = None,
) -> None:
    """Add (or, under the same key, replace) an entry.  ``admin_only`` defaults to its section's."""
    if section not in _sections:
        raise ValueError(f"no menu section {section!r}: register it first")
    admin = _sections[section].admin_only if admin_only is None else admin_only
    _entries[key] = Entry(key, label, url_name, section, order, admin, badge)


def unregister(key: str) -> None:
    """For tests that register an entry of their own."""
    _entries.pop(key, None)


def unregister_section(key: str) -> None:
    """For tests that register a section of their own (with its entries)."""
    for entry in [e for e in _entries.values() if e.section == key]:
        del _entries[entry.key]
    _sections.pop(key, None)


def entries() -> list[Entry]:
    """Every entry, by section order, then entry order, then key."""
    return sorted(_entries.values(), key=lambda e: (_sections[e.section].order, e.order, e.key))


def menu(request: HttpRequest, *, is_admin: bool) -> list[Menu]:
    """The sections and entries ``request``'s employee may see."""
    menus: list[Menu] = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        if section.admin_only and not is_admin:
            continue
        items = tuple(
            Item(e.key, e.label, reverse(e.url_name), e.badge(request) if e.badge else 0)
            for e in entries()
            if e.section == section.key and (is_admin or not e.admin_only)
        )
        if items:
            menus.append(Menu(section, items))
    return menus
