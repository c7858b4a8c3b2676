"""Append-only security events: one way to record them, ``audit.record(Action.X, ...)``."""

from smishguard.audit.actions import Action

__all__ = ["Action", "record", "record_refusal"]


def record(*args, **kwargs):
    from smishguard.audit.recorder import record as _record

    return _record(*args, **kwargs)


def record_refusal(*args, **kwargs):
    from smishguard.audit.recorder import record_refusal as _record_refusal

    return _record_refusal(*args, **kwargs)
