"""The database as a security boundary (PostgreSQL): the owner migrates, the services work as a restricted role.

``smishguard migrate`` runs as the database owner (SMISHGUARD_MIGRATE_DATABASE_URL) and then, when
SMISHGUARD_DATABASE_URL names another role, gives that role exactly what the web and worker processes need, again
on every run so that a new table is covered:

- every table: SELECT, INSERT, UPDATE, DELETE (no TRUNCATE, REFERENCES or TRIGGER); every sequence: USAGE, SELECT;
- the append-only tables (the audit trail, the gateway's access record): SELECT and INSERT only;
- django_migrations: SELECT only (/readyz and doctor read it; only the owner's migrate writes it);
- the schema: USAGE, never CREATE.  The role owns nothing, so it can run no DDL (ALTER, DROP, CREATE).

GRANT and REVOKE are idempotent; a run that changes a privilege records Action.DATABASE_ROLE_GRANTED.
``restriction_problems`` is doctor's question: may this connection do more than that?

SQLite has no roles: there the audit table's triggers (audit migration 0002) are the database's refusal.
"""

from __future__ import annotations

import getpass
import os

from smishguard.audit.models import Event
from smishguard.gateway.models import AccessRecord

MIGRATIONS_TABLE = "django_migrations"


def append_only_tables() -> list[str]:
    """The tables the services may only insert into and read: the audit trail, the gateway's access record."""
    return [Event._meta.db_table, AccessRecord._meta.db_table]


def role_of(url: str) -> str:
    """The role a PostgreSQL URL connects as: its user, else libpq's default (PGUSER, else the OS user)."""
    import dj_database_url

    return dj_database_url.parse(url).get("USER") or os.environ.get("PGUSER") or getpass.getuser()


def _privileges(cursor, role: str) -> list[tuple]:
    """What ``role`` is granted in the current schema (each relation's ACL and the schema's), to tell a run
    that changed something from one that did not."""
    cursor.execute(
        "SELECT c.relname, c.relkind, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1"
    )
    rows = [(name, kind, _entries(acl, role)) for name, kind, acl in cursor.fetchall()]
    cursor.execute("SELECT nspacl::text FROM pg_namespace WHERE nspname = current_schema()")
    (acl,) = cursor.fetchone()
    return [*rows, ("<schema>", "n", _entries(acl, role))]


def _entries(acl: str | None, role: str) -> list[str]:
    if not acl:
        return []
    return sorted(entry for entry in acl.strip("{}").split(",") if entry.strip('"').startswith(f"{role}="))


def role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def grant_privileges(connection, role: str) -> int:
    """Give ``role`` the services' privileges on the database ``connection`` (the owner's) is on; returns how many
    relations (and the schema) had their privileges for ``role`` changed (0 on a run that found them right)."""
    from psycopg import sql

    who = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), current_database()")
        schema_name, database_name = cursor.fetchone()
        schema = sql.Identifier(schema_name)
        before = _privileges(cursor, role)
        statements = [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database_name), who),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who),
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, who),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, who),
            sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, who),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, who),
            sql.SQL("REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, who),
            sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(MIGRATIONS_TABLE), who),
        ]
        statements += [
            sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), who)
            for table in append_only_tables()
        ]
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
        after = _privileges(cursor, role)
    return sum(1 for old, new in zip(before, after, strict=False) if old != new) + abs(len(after) - len(before))


def restriction_problems(connection) -> list[str]:
    """What the role ``connection`` works as may do beyond the services' privileges (on PostgreSQL): nothing
    when it is the restricted role ``grant_privileges`` made."""
    problems = []
    audit = append_only_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row is not None and row[0]:
            return ["it is a superuser"]
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND pg_has_role(c.relowner, 'USAGE')"
        )
        (owned,) = cursor.fetchone()
        if owned:
            problems.append(f"it owns {owned} of the database's tables (it may ALTER or DROP them)")
        for table in audit:
            cursor.execute(
                "SELECT has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'), "
                "has_table_privilege(%s, 'TRUNCATE')",
                [table, table, table],
            )
            allowed = [name for name, ok in zip(("UPDATE", "DELETE", "TRUNCATE"), cursor.fetchone(), strict=True) if ok]
            if allowed:
                problems.append(f"it may {'/'.join(allowed)} the append-only table {table}")
        cursor.execute(
            "SELECT has_schema_privilege(current_schema(), 'CREATE'), has_database_privilege(current_database(), "
            "'CREATE')"
        )
        schema_create, database_create = cursor.fetchone()
        if schema_create or database_create:
            problems.append("it may create tables or schemas")
    return problems
