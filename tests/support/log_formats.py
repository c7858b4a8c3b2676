"""Captured log records as settings.LOGGING's console handler writes them, in either SMISHGUARD_LOG_FORMAT: so a
test that no secret reaches a log checks the text lines and the JSON lines alike."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable

from django.conf import settings

from smishguard.logs import JsonFormatter
from smishguard.redaction import RedactSecretsFilter

LOG_FORMATS = ("text", "json")


def rendered(records: Iterable[logging.LogRecord], log_format: str) -> str:
    """The lines the console handler would write: its redaction filter, then the format's formatter."""
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
    else:
        formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    redact = RedactSecretsFilter()
    lines = []
    for record in records:
        record = copy.copy(record)  # noqa: PLW2901 - the filter rewrites the record: leave caplog's alone
        redact.filter(record)
        lines.append(formatter.format(record))
    return "\n".join(lines)
