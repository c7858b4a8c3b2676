"""The brands move from ``reports`` to ``detection`` (issue 12) keeps every row: a database made before the move
(migrated to ``reports.0004_benign_review``, a brand and a keyword written through the historical models) is
migrated forward, the rows are found through ``smishguard.detection.models``, in tables of detection's name, and
migrating back puts them where they were.

Run in a fresh process on a throw-away SQLite database: the executor changes the schema, which the test run's own
database (inside a transaction that is rolled back) must not see.
"""

from __future__ import annotations

import json

from servers import as_owner, clean_env, django_eval

SCRIPT = r"""
import json
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("reports", "0004_benign_review"), ("contenttypes", "0002_remove_content_type_name")]


def executor():
    return MigrationExecutor(connection)


def tables():
    return sorted(t for t in connection.introspection.table_names() if t.endswith(("_brand", "_keyword")))


out = {}
ex = executor()
ex.migrate(BEFORE)
old = ex.loader.project_state(BEFORE).apps
brand = old.get_model("reports", "Brand").objects.create(
    name="Acme", domains=["acme.co.uk", "acme.com"], tokens=["acmecorp"]
)
old.get_model("reports", "Keyword").objects.create(word="payroll")
content_type = old.get_model("contenttypes", "ContentType").objects.create(app_label="reports", model="brand")
out["before"] = {"brand_id": brand.pk, "content_type_id": content_type.pk, "tables": tables()}

ex = executor()
ex.migrate(ex.loader.graph.leaf_nodes())
from django.contrib.contenttypes.models import ContentType
from smishguard.detection.models import Brand, Keyword

moved = Brand.objects.get(name="Acme")
out["after"] = {
    "brand": [moved.pk, moved.name, moved.domains, moved.tokens],
    "keywords": list(Keyword.objects.values_list("word", flat=True)),
    "content_type_id": ContentType.objects.get_for_model(Brand).pk,
    "tables": tables(),
}

ex = executor()
ex.migrate([*BEFORE, ("detection", None)])
back = executor().loader.project_state(BEFORE).apps
row = back.get_model("reports", "Brand").objects.get(name="Acme")
content_types = back.get_model("contenttypes", "ContentType").objects
out["back"] = {
    "brand": [row.pk, row.name, row.domains, row.tokens],
    "keywords": list(back.get_model("reports", "Keyword").objects.values_list("word", flat=True)),
    "content_type": list(content_types.filter(pk=content_type.pk).values_list("app_label", "model")[0]),
    "tables": tables(),
}
print(json.dumps(out))
"""


def test_the_move_keeps_every_brand_and_keyword_and_can_be_undone(tmp_path):
    out = json.loads(django_eval(as_owner(clean_env(tmp_path)), SCRIPT).splitlines()[-1])  # it migrates: as owner
    brand_id = out["before"]["brand_id"]
    assert out["before"]["tables"] == ["reports_brand", "reports_keyword"]

    after = out["after"]
    assert after["brand"] == [brand_id, "Acme", ["acme.co.uk", "acme.com"], ["acmecorp"]]
    assert after["keywords"] == ["payroll"]
    assert after["tables"] == ["detection_brand", "detection_keyword"]
    assert after["content_type_id"] == out["before"]["content_type_id"]  # the same row, now detection's

    back = out["back"]
    assert back["brand"] == [brand_id, "Acme", ["acme.co.uk", "acme.com"], ["acmecorp"]]
    assert back["keywords"] == ["payroll"]
    assert back["tables"] == ["reports_brand", "reports_keyword"]
    assert back["content_type"] == ["reports", "brand"]
