"""What the compliance tests share (tests/training/test_compliance_*.py, the gateway's training rule): a module
with a version, and an attempt at it, made directly as the quiz will make them (the quiz calls
``compliance.complete(attempt)`` after saving a passed attempt)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from django.utils import timezone

from smishguard.training import compliance
from smishguard.training.models import Attempt, Module, ModuleVersion


def make_module(slug: str = "smishing", *, title: str = "Smishing and your security key", versions: int = 1) -> Module:
    """A module of a known shape; one of the same slug (the bundled one, installed by the migrations) goes first."""
    Module.objects.filter(slug=slug).delete()
    module = Module.objects.create(slug=slug, title=title, created_by="test")
    for number in range(1, versions + 1):
        ModuleVersion.objects.create(
            module=module,
            number=number,
            title=title,
            content="# Smishing\n\nReport it.",
            quiz=[{"question": "Report?", "choices": ["yes", "no"], "answer": 0, "explanation": ""}],
        )
    return module


def take_quiz(
    employee,
    module: Module,
    *,
    score: int = 100,
    passed: bool = True,
    seconds: int = 300,
    at: datetime | None = None,
    version: int | None = None,
) -> Attempt:
    """An attempt at ``module`` (its latest version, or ``version``) submitted ``at`` (now), ``seconds`` after it
    started, then ``compliance.complete`` as the quiz calls it."""
    at = at or timezone.now()
    chosen = module.versions.order_by("-number").first() if version is None else module.versions.get(number=version)
    attempt = Attempt.objects.create(
        employee=employee,
        version=chosen,
        started_at=at - timedelta(seconds=seconds),
        submitted_at=at,
        score=score,
        passed=passed,
    )
    compliance.complete(attempt)
    return attempt


def training_settings(settings, **changes) -> None:
    """Change ``[training]`` for the test (pytest-django's ``settings`` fixture)."""
    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, training=dataclasses.replace(settings.SMISHGUARD.training, **changes)
    )
