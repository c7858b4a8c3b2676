"""Fixtures for the SMS engine tests: where the shared labelled data lives."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """$SMISHGUARD_SHARED_DATA if set, else ../shared/data beside the repository."""
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sms_data_dir() -> Path:
    path = shared_data_dir() / "sms"
    assert (path / "uci_sms_spam_collection.tsv").is_file(), f"shared SMS data not found in {path}"
    return path
