"""The statements ``passkeys`` writes out on the sign-in path, built from the models' ``_meta``.

The sign-in path runs a few fixed statements: written out once here rather than compiled by the ORM on every
request (the ORM's query compiler cost more than SQLite itself).  Plain SQL that SQLite and PostgreSQL share;
every value is a parameter; every table and column name comes from ``_meta`` (``accounts.models.Employee``
included: passkeys sits above accounts, and this import is what shows the dependency).  Kept in this one module
(DESIGN.md, hot paths); tests/passkeys/test_passkeys_sql.py runs each beside its ORM form on the same data.
"""

from __future__ import annotations

from smishguard.accounts.models import Employee
from smishguard.db import Columns, column, fast_insert, table
from smishguard.passkeys.models import Challenge, Credential

ch = Columns(Challenge, "ch")
c = Columns(Credential, "c")
e = Columns(Employee, "e")

# Keeping a ceremony's challenge server-side: one INSERT (options for registration, sign-in and step-up).
CHALLENGE_FIELDS = (
    "challenge",
    "purpose",
    "employee",
    "enrolment_link",
    "created_at",
    "expires_at",
    "used_at",
    "user_handle",
)
INSERT_CHALLENGE = fast_insert(Challenge, CHALLENGE_FIELDS)

# Sign-in options for an email: the employee's status and usable keys (not revoked, not flagged), oldest first,
# in one statement.  Emails are stored stripped and lower-cased (Employee.save), so equality on the unique
# column is the case-insensitive match.  Parameter: the email.  Rows: (employee id, status, credential id,
# transports), one per key; one row with NULL key columns when the employee has none.
LOGIN_KEYS = (
    f"SELECT {e['id']}, {e['status']}, {c['credential_id']}, {c['transports']} FROM {e.table} "
    f"LEFT JOIN {c.table} ON {c['employee']} = {e['id']} AND {c['revoked_at']} IS NULL "
    f"AND {c['flagged_at']} IS NULL "
    f"WHERE {e['email']} = %s ORDER BY {c['created_at']}"
)

# The make-up of every active employee's usable keys (what fake sign-in answers are drawn from), in two
# statements.  Parameter: Employee.Status.ACTIVE.  KEY_KINDS rows: (id length, transports, keys);
# KEY_COUNTS rows: (keys an employee has, employees).
_USABLE_KEYS_OF_ACTIVE = (
    f"FROM {c.table} JOIN {e.table} ON {e['id']} = {c['employee']} "
    f"WHERE {c['revoked_at']} IS NULL AND {c['flagged_at']} IS NULL AND {e['status']} = %s "
)
KEY_KINDS = (
    f"SELECT length({c['credential_id']}), {c['transports']}, COUNT(*) {_USABLE_KEYS_OF_ACTIVE}"
    f"GROUP BY length({c['credential_id']}), {c['transports']}"
)
KEY_COUNTS = (
    f"SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n {_USABLE_KEYS_OF_ACTIVE}GROUP BY {c['employee']}) per_employee "
    "GROUP BY n"
)

# The sign-in look-up: the challenge and the key in one statement.  The challenge row, and beside it the key
# the assertion names (with its employee), or NULLs when no key has that id.  Parameters: now (a database
# time), the credential id, the challenge, Challenge.Purpose.LOGIN.  One row at most, as LoginRow in
# passkeys.signin reads it.
FIND_LOGIN = (
    f"SELECT {ch['id']}, {ch['employee']}, {ch['used_at']} IS NOT NULL, {ch['expires_at']} > %s, "
    f"{c['id']}, {c['employee']}, {c['public_key']}, {c['sign_count']}, {c['backup_eligible']}, "
    f"{c['user_handle']}, {c['revoked_at']} IS NOT NULL, {c['flagged_at']} IS NOT NULL, {c['name']}, "
    f"{c['model']}, {e['email']}, {e['name']}, {e['status']}, {e['is_admin']} "
    f"FROM {ch.table} "
    f"LEFT JOIN {c.table} ON {c['credential_id']} = %s "
    f"LEFT JOIN {e.table} ON {e['id']} = {c['employee']} "
    f"WHERE {ch['challenge']} = %s AND {ch['purpose']} = %s"
)

# Taking a challenge, once: the request whose UPDATE changes the row is the one that consumed it.
# Parameters: now (a database time), the challenge's id, now again.
CLAIM_CHALLENGE = (
    f"UPDATE {table(Challenge)} SET {column(Challenge, 'used_at')} = %s "
    f"WHERE {column(Challenge, 'id')} = %s AND {column(Challenge, 'used_at')} IS NULL "
    f"AND {column(Challenge, 'expires_at')} > %s"
)

# A key used at sign-in: its counter, last use and backup state, unless it was revoked or flagged meanwhile.
# Parameters: sign count, now (a database time), backed up, the key's id; USE_KEY_COUNTER_ABOVE adds the
# counter (a non-zero counter must only go up, decided by the database between racers).
USE_KEY = (
    f"UPDATE {table(Credential)} SET {column(Credential, 'sign_count')} = %s, "
    f"{column(Credential, 'last_used_at')} = %s, {column(Credential, 'backed_up')} = %s "
    f"WHERE {column(Credential, 'id')} = %s AND {column(Credential, 'revoked_at')} IS NULL "
    f"AND {column(Credential, 'flagged_at')} IS NULL"
)
USE_KEY_COUNTER_ABOVE = f"{USE_KEY} AND {column(Credential, 'sign_count')} < %s"
