"""The bundled module's data migration (training 0002): it installs "smishing" from its files through the
historical models, and undoing it removes the module again (unless someone has attempted it: attempts are kept,
and so is the module).  Run in a fresh process on its own database (as the owner: it migrates), which the test
run's own database, inside a transaction that is rolled back, must not see."""

from __future__ import annotations

import json

from servers import as_owner, clean_env, django_eval

SCRIPT = r"""
import json
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def executor():
    return MigrationExecutor(connection)


def slugs(state):
    module = executor().loader.project_state(state).apps.get_model("training", "Module")
    return list(module.objects.values_list("slug", flat=True))


out = {}
ex = executor()
ex.migrate(ex.loader.graph.leaf_nodes())
from smishguard.training.models import Module, ModuleVersion

version = ModuleVersion.objects.get(module__slug="smishing")
out["installed"] = [version.number, version.pass_mark, len(version.quiz), version.content.startswith("This module")]

executor().migrate([("training", "0001_initial")])
out["undone"] = slugs([("training", "0001_initial")])

ex = executor()
ex.migrate(ex.loader.graph.leaf_nodes())
out["again"] = list(Module.objects.values_list("slug", flat=True))

from smishguard.accounts.models import Employee
from smishguard.training.models import Attempt
from django.utils import timezone

person = Employee.objects.create(email="pat@example.com", name="Pat")
version = ModuleVersion.objects.get(module__slug="smishing")
Attempt.objects.create(employee=person, version=version, started_at=timezone.now(), score=100, passed=True)
executor().migrate([("training", "0001_initial")])
out["kept"] = slugs([("training", "0001_initial")])
print(json.dumps(out))
"""


def test_the_bundled_module_is_installed_and_removed_by_its_migration(tmp_path):
    out = json.loads(django_eval(as_owner(clean_env(tmp_path)), SCRIPT).splitlines()[-1])
    assert out["installed"] == [1, 80, 6, True]
    assert out["undone"] == []
    assert out["again"] == ["smishing"]
    assert out["kept"] == ["smishing"]  # attempted: the module and its attempts stay
