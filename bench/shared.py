"""What the benchmarks share, standard library only (bench/compare_domains.py runs it inside a venv of its own):
where the shared data is, and how a domain list is read."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    """$SMISHGUARD_SHARED_DATA if set, else the "shared/data" folder beside the repository."""
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def read_domains(path: Path) -> list[str]:
    """One domain per line; blank lines and # comments skipped."""
    with path.open(encoding="utf-8") as f:
        return [s for line in f if (s := line.strip()) and not s.startswith("#")]
