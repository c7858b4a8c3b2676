"""The watch app's errors."""

from __future__ import annotations


class WatchConfigInvalid(ValueError):
    """The ``[watch]`` table or a flag has a value the watcher cannot use."""
