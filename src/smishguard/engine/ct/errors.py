"""The narrow exceptions of the CT engine, one per failure."""

# DESIGN.md names exceptions for the failure (TreeHeadInvalid, ChallengeExpired), not with an Error suffix.

from __future__ import annotations


class CTError(Exception):
    """Base class of every error the CT engine raises."""


class MalformedEntry(CTError, ValueError):
    """A log entry (MerkleTreeLeaf, extra_data, TileLeaf or certificate in it) could not be parsed."""


class TreeHeadInvalid(CTError, ValueError):
    """A tree head (RFC 6962 STH or static-CT checkpoint) is malformed or its signature does not verify.

    The reader that raises it keeps its last verified tree head: it never moves forward on this one.
    """


class LogListInvalid(CTError, ValueError):
    """A log list (Chrome's log_list.json v3 form) is malformed or names a log with a bad key."""


class CertstreamMessageInvalid(CTError, ValueError):
    """A certstream message is not JSON, not a ``certificate_update``, or lacks the fields we need."""


class LogRequestFailed(CTError):
    """A request to a log failed for good: a 4xx other than 429, a malformed response, or an empty batch."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class LogUnavailable(LogRequestFailed):
    """A log kept answering 429/5xx (or not answering) through every retry."""
