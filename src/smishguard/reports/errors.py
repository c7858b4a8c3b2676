"""The reports app's narrow failures: a report or a response the caller must change (the HTTP edge,
the console and the CLI each turn them into an answer once)."""

from __future__ import annotations

from smishguard.errors import Conflict, SmishguardError


class InvalidReport(SmishguardError):
    """The report cannot be taken: no text, a text too long, binary content, a bad field."""

    code = "invalid_report"
    status = 400


class ReportRateLimited(SmishguardError):
    """Too many reports from one reporter in a short time (the report is recorded, not scanned)."""

    code = "rate_limited"
    status = 429


class AttributionNotAllowed(SmishguardError):
    """This API token may not name the employee who reported (it lacks the "reports:attribute" scope)."""

    code = "attribution_not_allowed"
    status = 403


class AlreadyWarned(Conflict):
    """Staff have already been warned about this campaign."""

    code = "already_warned"


class NothingToBlock(SmishguardError):
    """The campaign links to no domain that may be blocked (none, or only official ones)."""

    code = "nothing_to_block"
    status = 400


class WarningNotQueued(SmishguardError):
    """The warning could not be queued (Twilio is not configured, or the text is unusable)."""

    code = "warning_not_queued"
    status = 503


class NotOnBlocklist(SmishguardError):
    """The domain asked to be taken off the blocklists is not on them."""

    code = "not_on_blocklist"
    status = 404


class InvalidStatus(SmishguardError):
    code = "invalid_status"
    status = 400
