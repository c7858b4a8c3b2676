"""Fixtures for the CT engine tests; makes tests/support importable (``import ct_logs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parents[2] / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

import ct_logs  # noqa: E402 - needs the path above

# ../shared/data/ct from the project root (read-only fixtures; never copied into the repo)
CT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ct"


@pytest.fixture(scope="session")
def ct_data() -> Path:
    assert CT_DATA.is_dir(), f"shared CT fixtures not found at {CT_DATA}"
    return CT_DATA


@pytest.fixture(scope="session")
def test_ca() -> ct_logs.TestCA:
    return ct_logs.TestCA()


@pytest.fixture(scope="session")
def ec_log_key() -> ct_logs.LogKey:
    return ct_logs.LogKey("ec")


@pytest.fixture(scope="session")
def rsa_log_key() -> ct_logs.LogKey:
    return ct_logs.LogKey("rsa")
