"""The people the gateway's tests ask about (plain helpers: tests/support/gateway_checks.py)."""

from __future__ import annotations

import pytest

from smishguard.accounts.services import add_employee


@pytest.fixture
def bob(db):
    """In the groups the test policies admit to customer data (support) and one more (security)."""
    return add_employee(email="bob@example.com", name="Bob Builder", groups=["support", "security"])


@pytest.fixture
def carol(db):
    """In a group no test policy admits (sales)."""
    return add_employee(email="carol@example.com", name="Carol", groups=["sales"])
