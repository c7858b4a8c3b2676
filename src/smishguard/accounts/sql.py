"""The statements ``accounts`` writes out on the sign-in path, built from its models' ``_meta``.

Kept here, one module for the app (DESIGN.md, hot paths); tests/accounts/test_accounts_sql.py runs each beside
its ORM form on the same data and compares the rows.
"""

from __future__ import annotations

from smishguard.accounts.models import Employee, Group, Session
from smishguard.db import Columns, ValuesReader, fast_insert, row_reader

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
    "key_touch_required_at",
)
# Opening a session at sign-in: one INSERT ... RETURNING id.
INSERT_SESSION = fast_insert(Session, SESSION_FIELDS)

# A request's session, looked up on every request that carries the cookie (the session middleware, and every
# gateway check): the session and its employee in one statement, by the SHA-256 of the cookie's token (unique).
# Rows: SESSION_ROW's columns, then EMPLOYEE_ROW's; one row at most.  accounts.sessions.resolve judges it.
# The key that opened the session comes along (the gateway's assertion says whether it is hardware-bound or a
# synced passkey): CREDENTIAL_ROW's columns follow, NULLs when the session has no key (or it was deleted).  The
# model is Session.credential's own (passkeys sits above accounts: no import).
SESSION_ROW = row_reader(Session, "s")
EMPLOYEE_ROW = row_reader(Employee, "e")
CREDENTIAL_ROW = row_reader(Session._meta.get_field("credential").related_model, "c")
_s, _e, _c = Columns(Session, "s"), Columns(Employee, "e"), Columns(CREDENTIAL_ROW.model, "c")
SESSION_BY_KEY = (
    f"SELECT {SESSION_ROW.columns}, {EMPLOYEE_ROW.columns}, {CREDENTIAL_ROW.columns} FROM {_s.table} "
    f"JOIN {_e.table} ON {_e['id']} = {_s['employee']} LEFT JOIN {_c.table} ON {_c['id']} = {_s['credential']} "
    f"WHERE {_s['key_hash']} = %s"
)

# The gateway's check, on every request to every protected app: the same session as SESSION_BY_KEY, as plain
# values (no model built: accounts.sessions.resolve_values), and the names of its employee's groups (what a rule's
# ``subject = ["group:NAME"]`` matches) in the same statement, aggregated as the database can: SQLite a JSON
# array (text), PostgreSQL an array (a list, or NULL for none).  Rows: CHECK_SESSION_ROW's columns, then the
# groups; one row at most.
_CHECK_SESSION_FIELDS = (
    "id",
    "employee",
    "created_at",
    "last_seen_at",
    "expires_at",
    "revoked_at",
    "last_assertion_at",
    "user_verified",
    "ip",
    "key_touch_required_at",  # a fresh key touch asked for (require_key_touch): the gateway's step-up until one
)
CHECK_SESSION_ROW = ValuesReader(
    [(Session, "s", name) for name in _CHECK_SESSION_FIELDS]
    + [(Employee, "e", name) for name in ("status", "email", "name")]
    + [(CREDENTIAL_ROW.model, "c", "backup_eligible")]
)
_g, _m = Columns(Group, "g"), Columns(Employee.groups.through, "m")
_GROUPS = f"FROM {_m.table} JOIN {_g.table} ON {_g['id']} = {_m['group']} WHERE {_m['employee']} = {_s['employee']}"
_CHECK_FROM = (
    f"FROM {_s.table} JOIN {_e.table} ON {_e['id']} = {_s['employee']} "
    f"LEFT JOIN {_c.table} ON {_c['id']} = {_s['credential']} WHERE {_s['key_hash']} = %s"
)
CHECK_SESSION = {
    "sqlite": f"SELECT {CHECK_SESSION_ROW.columns}, (SELECT json_group_array({_g['name']}) {_GROUPS}) {_CHECK_FROM}",
    "postgresql": f"SELECT {CHECK_SESSION_ROW.columns}, ARRAY(SELECT {_g['name']} {_GROUPS}) {_CHECK_FROM}",
}
