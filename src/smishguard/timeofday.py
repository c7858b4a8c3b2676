"""Times of day as people write them in smishguard.toml and on the command line: ``HH:MM-HH:MM`` ranges.

The one parser of ``[training] quiet_hours`` (checked by config.TrainingSettings, read by training.reminders) and
of a simulation's send window (training.simulations.parse_window, from the CLI and the console's form).  Each time
is two digits of hours (00-23: 24:00 is refused) and two of minutes; a range may cross midnight (21:00-08:00).
Whether the start may equal the end, and what an empty value means, is the caller's business, and so is the
message a person reads: a refusal here is a bare ``ValueError`` that each caller turns into its own error.

Pure Python (no Django), so config.py and any app may use it.
"""

from __future__ import annotations

import re
from datetime import time

_TIME = r"([01][0-9]|2[0-3]):([0-5][0-9])"  # ASCII digits only (not \d, which takes any script's digits)
_STRICT = re.compile(rf"{_TIME}-{_TIME}")
_SPACED = re.compile(rf"\s*{_TIME}\s*-\s*{_TIME}\s*")  # spaces around either time and the dash: "09:00 - 17:00"


def parse_range(text: str, *, spaces: bool = False) -> tuple[time, time]:
    """``HH:MM-HH:MM`` as (start, end); ``spaces`` allows white space around the times and the dash.

    Raises ValueError for anything else (not a string, 24:00, 9-5, 09:00, an empty string)."""
    if not isinstance(text, str):
        raise ValueError(f"not a time range: {text!r}")
    match = (_SPACED if spaces else _STRICT).fullmatch(text)
    if match is None:
        raise ValueError(f"not a time range: {text!r}")
    return time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
