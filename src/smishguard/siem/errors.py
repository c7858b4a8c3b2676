"""Narrow failures of the SIEM streams (turned into the outbox's ``SendFailed`` by the kind's sender)."""

from __future__ import annotations


class StreamFailed(Exception):
    """A batch was not accepted (the receiver is down, refused it, or the connection broke)."""


class TokenMissing(StreamFailed):
    """The stream's token (``token_env`` or ``token_file``) cannot be read.  The message names where, never what."""
