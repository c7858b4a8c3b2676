"""The statements ``accounts`` writes out on the sign-in path, built from its models' ``_meta``.

Kept here, one module for the app (DESIGN.md, hot paths); tests/accounts/test_accounts_sql.py runs each beside
its ORM form on the same data and compares the rows.
"""

from __future__ import annotations

from smishguard.accounts.models import Session
from smishguard.db import fast_insert

# Every concrete field but the id, as Session.objects.create() writes them.
SESSION_FIELDS = (
    "key_hash",
    "employee",
    "auth_method",
    "credential",
    "created_at",
    "last_seen_at",
    "expires_at",
    "ip",
    "user_agent",
    "revoked_at",
    "revoked_by",
    "revoke_reason",
    "last_assertion_at",
    "user_verified",
)
# Opening a session at sign-in: one INSERT ... RETURNING id.
INSERT_SESSION = fast_insert(Session, SESSION_FIELDS)
