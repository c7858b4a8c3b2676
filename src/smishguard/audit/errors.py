"""The audit app's errors."""

from __future__ import annotations


class AppendOnlyError(Exception):
    """An audit event may be written once; changing or deleting one is refused."""
