"""Narrow errors of the accounts app that other apps raise too (the guard for sensitive actions)."""

from __future__ import annotations

from smishguard.errors import PermissionDenied


class StepUpRequired(PermissionDenied):
    """Touch one of your security keys first: this action needs a recent key touch in this session."""

    code = "step_up_required"
