"""The registry of API-token scopes: each app that serves a token-guarded endpoint registers its scopes in its
``AppConfig.ready()`` (DESIGN.md: a lower app offers the registry, the higher one fills it), so accounts, which
issues and checks tokens, names no other app's features.  Tokens are validated against it when issued (the CLI's
``smishguard tokens issue`` and the console's API tokens page, both through accounts.tokens.issue); the console
offers the scopes in registration order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    name: str
    description: str
    # A scope that only widens another (reports:attribute widens reports) is given together with it or not at all.
    requires: str = ""


_scopes: dict[str, Scope] = {}


def register(name: str, *, description: str, requires: str = "") -> Scope:
    """Add a scope (idempotent: registering the same scope again, as a second ``ready()`` does, changes nothing)."""
    scope = Scope(name, description, requires)
    known = _scopes.get(name)
    if known is not None and known != scope:
        raise ValueError(f"the API-token scope {name!r} is already registered differently")
    if requires and requires not in _scopes:
        raise ValueError(f"the API-token scope {name!r} requires {requires!r}, which is not registered")
    _scopes[name] = scope
    return scope


def all_scopes() -> tuple[Scope, ...]:
    return tuple(_scopes.values())


def names() -> tuple[str, ...]:
    """The scope names, in the order they were registered."""
    return tuple(_scopes)


def get(name: str) -> Scope | None:
    return _scopes.get(name)


def unregister(name: str) -> None:
    """For tests that register a scope of their own."""
    _scopes.pop(name, None)
