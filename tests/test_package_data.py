"""The wheel `pip install ./smishguard` builds holds every file the code needs that is not Python: each
non-Python file under src/smishguard is matched by a [tool.setuptools.package-data] pattern, expanded as
setuptools expands it (a recursive glob from the package's folder)."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "smishguard"


def test_every_data_file_is_in_the_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["smishguard"]
    shipped = {Path(match) for pattern in patterns for match in glob.glob(pattern, root_dir=PACKAGE, recursive=True)}
    data = {
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert data, "no data files found: has the layout moved?"
    missing = sorted(str(p) for p in data - shipped)
    assert not missing, f"not in the wheel (pyproject.toml [tool.setuptools.package-data]): {missing}"
