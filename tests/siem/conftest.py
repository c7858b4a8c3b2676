"""The SIEM streams' fixtures: settings naming the tests' receivers, and the worker's pass run until drained."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from smishguard.config import SiemSettings, SiemStream
from smishguard.siem import streaming


@pytest.fixture
def streams(settings) -> Callable[..., tuple[SiemStream, ...]]:
    """``streams(dict(name=..., kind=...), ...)``: these streams in smishguard.toml, with a horizon of 0 s, each
    started at once (its position made, and its SIEM_STREAM_STARTED event recorded, before the test writes any)."""

    def apply(*tables: dict[str, Any], horizon_seconds: float = 0, **siem: Any) -> tuple[SiemStream, ...]:
        configured = tuple(SiemStream(**table) for table in tables)
        rules = SiemSettings(streams=configured, horizon_seconds=horizon_seconds, **siem)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, siem=rules)
        for config in configured:
            streaming.stream_row(config)
        return configured

    return apply
