"""The breach scope's index (``smishguard incident scope``; docs/gateway.md, "Breach scope").

``(employee, decision, host, customer, at)``: the scope's query groups the chosen employees' rows by decision, host
and customer and reads ``at`` for the first and last read, so this one index answers it alone, in its order —
SQLite groups while it walks the index (no sort of a million rows), PostgreSQL does an index-only scan.  It is
the one index the scope adds to the access record (each costs every customer-data check a write); containment's
``(employee, at)`` is a different order and stays.

On PostgreSQL it is built with CREATE INDEX CONCURRENTLY, so that a table already holding millions of rows keeps
taking the checks' writes while it is built (hence ``atomic = False``); SQLite builds it as usual.  If a
concurrent build is interrupted, PostgreSQL leaves an INVALID index: ``DROP INDEX gateway_access_scope`` and
migrate again.
"""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # noqa: ARG002 - Django's signature
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql" and not schema_editor.connection.in_atomic_block:
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # noqa: ARG002 - Django's signature
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql" and not schema_editor.connection.in_atomic_block:
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("gateway", "0005_customer_read"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="accessrecord",
            index=models.Index(fields=["employee", "decision", "host", "customer", "at"], name="gateway_access_scope"),
        ),
    ]
