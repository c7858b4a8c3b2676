"""A kind of the tests' own ("probe"), registered for one test: its sender and reconciler are the test's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smishguard.outbox import registry

PROBE = "probe"


@pytest.fixture
def probe(db: Any) -> Iterator[Callable[..., registry.Kind]]:
    def register(**fields: Any) -> registry.Kind:
        return registry.register(registry.Kind(name=PROBE, **fields))

    yield register
    registry.unregister(PROBE)
