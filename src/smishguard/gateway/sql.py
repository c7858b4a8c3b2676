"""The statements the gateway's check writes out, built from the models' ``_meta`` (DESIGN.md, hot paths).

The check runs on every request to every protected app; a statement the ORM compiles on each call costs more
than the database answering it.  Plain SQL that SQLite and PostgreSQL share; every value is a parameter; every
table and column name comes from ``_meta``.  tests/gateway/test_gateway_sql.py runs each beside its ORM form.
"""

from __future__ import annotations

from smishguard.accounts.models import Employee, Group
from smishguard.db import Columns

_g = Columns(Group, "g")
_membership = Employee.groups.through
_m = Columns(_membership, "m")

# The names of an employee's groups (what a rule's ``subject = ["group:NAME"]`` matches).  Parameter: the
# employee's id.  Rows: (name,), in no particular order.
GROUP_NAMES = (
    f"SELECT {_g['name']} FROM {_m.table} JOIN {_g.table} ON {_g['id']} = {_m['group']} WHERE {_m['employee']} = %s"
)
