"""The SQLite connection every process opens: the settings the sign-in benchmark's figures depend on."""

from __future__ import annotations

import json

from servers import clean_env, django_eval


def test_sqlite_connections_use_wal_with_the_documented_pragmas(tmp_path):
    code = (
        "import json\nfrom django.db import connection\ncur = connection.cursor()\nout = {}\n"
        "for name in ('journal_mode', 'synchronous', 'busy_timeout', 'mmap_size', 'wal_autocheckpoint',"
        " 'journal_size_limit'):\n"
        "    cur.execute('PRAGMA ' + name)\n    out[name] = cur.fetchone()[0]\nprint(json.dumps(out))"
    )
    pragmas = json.loads(django_eval(clean_env(tmp_path / "var"), code))
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL: a commit does not wait for the disk; checkpoints do
        "busy_timeout": 20000,
        "mmap_size": 268435456,
        "wal_autocheckpoint": 10000,
        "journal_size_limit": 67108864,
    }
