"""Issue 12, item 2: the layers contract (pyproject.toml, run by `lint-imports` in ./scripts/test) sees every
import between our modules, because none is dodged: no module of ours reaches another through
``importlib.import_module``, ``__import__``, Django's ``import_string`` or ``apps.get_model`` (migrations, which
work on historical models, are the exception Django makes them)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "smishguard"
DODGES = re.compile(r"\bimport_module\(|\b__import__\(|\bimport_string\(|\bget_model\(|\bapps\.get_models?\(")


def test_no_module_reaches_another_by_name():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if DODGES.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert found == []


def test_the_check_finds_a_dodge():
    assert DODGES.search("model = apps.get_model('reports', 'Report')")
    assert DODGES.search("module = importlib.import_module(name)")
