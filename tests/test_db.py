"""smishguard/db.py: statements built from the models' _meta (the fast INSERT, table and column names)."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldDoesNotExist

from smishguard.accounts.models import Session
from smishguard.accounts.sql import INSERT_SESSION, SESSION_FIELDS
from smishguard.db import Columns, FastInsert, column, fast_insert, table
from smishguard.passkeys.models import Challenge, Credential


def test_fast_insert_is_built_once_per_model_and_fields():
    assert fast_insert(Session, SESSION_FIELDS) is INSERT_SESSION
    assert fast_insert(Session, ("key_hash", "employee", "expires_at")) is not INSERT_SESSION


def test_fast_insert_names_the_table_and_columns_from_meta():
    insert = FastInsert(Challenge, ("challenge", "employee", "expires_at"))
    assert insert.sql == (
        f"INSERT INTO {Challenge._meta.db_table} (challenge, employee_id, expires_at) VALUES (%s, %s, %s) RETURNING id"
    )


def test_columns_come_from_meta_and_a_misspelt_field_fails_early():
    c = Columns(Credential, "c")
    assert c.table == f"{Credential._meta.db_table} c"
    assert c["employee"] == "c.employee_id"
    assert table(Credential) == Credential._meta.db_table
    assert column(Credential, "employee") == "employee_id"
    with pytest.raises(FieldDoesNotExist):
        c["signcount"]
    with pytest.raises(FieldDoesNotExist):
        FastInsert(Credential, ("signcount",))
