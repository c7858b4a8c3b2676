"""Append-only security events: one way to record them, ``audit.record(Action.X, ...)``."""

from smishguard.audit.actions import Action

__all__ = ["Action", "record"]


def record(*args, **kwargs):
    from smishguard.audit.recorder import record as _record

    return _record(*args, **kwargs)
