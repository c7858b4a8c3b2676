from django.db import migrations, models

# On SQLite the counters are a WITHOUT ROWID table: a hit then rewrites one b-tree page (the row, kept in its
# primary key's tree) instead of three (the rowid table, the primary key's index and an expiry index), and every
# page written goes through the WAL and its checkpoints; measured side by side, that is most of what counting
# costs a sign-in (docs/benchmarks.md).  Counters are short-lived, so the table is made empty.  (A later
# migration that alters this table on SQLite would remake it as a plain table: functionally the same.)
_WITHOUT_ROWID = (
    "CREATE TABLE ratelimits_counter (cache_key varchar(255) NOT NULL PRIMARY KEY, value bigint NOT NULL, "
    "expires_at real NOT NULL) WITHOUT ROWID"
)


def _without_rowid_on_sqlite(_apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE ratelimits_counter")
        schema_editor.execute(_WITHOUT_ROWID)


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Counter",
            fields=[
                ("cache_key", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
                ("expires_at", models.FloatField()),
            ],
        ),
        migrations.RunPython(_without_rowid_on_sqlite, migrations.RunPython.noop),
    ]
