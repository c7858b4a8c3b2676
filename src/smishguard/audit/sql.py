"""The statement ``audit`` writes out on the hottest write path (every sign-in and every refusal records an
event), built from ``Event._meta``; tests/audit/test_audit_sql.py compares it with ``Event.save()``."""

from __future__ import annotations

from smishguard.audit.models import Event
from smishguard.db import fast_insert

# Every concrete field but the id, as Event.save() writes them for a new row.
EVENT_FIELDS = ("at", "action", "actor", "actor_label", "subject", "subject_label", "ip", "user_agent", "detail")
INSERT_EVENT = fast_insert(Event, EVENT_FIELDS)
