"""What every process reads before it starts: the data folder and secret key, the SQLite connection's settings."""

from __future__ import annotations

import json

from servers import clean_env, django_eval, smishguard


def test_sqlite_connections_use_wal_with_the_documented_pragmas(tmp_path):
    code = (
        "import json\nfrom django.db import connection\ncur = connection.cursor()\nout = {}\n"
        "for name in ('journal_mode', 'synchronous', 'busy_timeout', 'mmap_size', 'wal_autocheckpoint',"
        " 'journal_size_limit'):\n"
        "    cur.execute('PRAGMA ' + name)\n    out[name] = cur.fetchone()[0]\nprint(json.dumps(out))"
    )
    pragmas = json.loads(django_eval(clean_env(tmp_path / "var", sqlite=True), code))  # SQLite's, in either mode
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL: a commit does not wait for the disk; checkpoints do
        "busy_timeout": 20000,
        "mmap_size": 268435456,
        "wal_autocheckpoint": 10000,
        "journal_size_limit": 67108864,
    }


def test_a_data_folder_that_is_a_file_gets_one_readable_line_and_nothing_is_written(tmp_path):
    not_a_folder = tmp_path / "var"
    not_a_folder.write_text("mine\n")
    result = smishguard(clean_env(not_a_folder), "employees", "list", check=False)
    assert result.returncode == 2
    assert result.stderr == f"smishguard: error: SMISHGUARD_DATA_DIR ({not_a_folder}) is a file, not a folder\n"
    assert not_a_folder.read_text() == "mine\n"


def test_a_secret_key_that_cannot_be_read_gets_one_readable_line(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").mkdir()  # a folder where the key file belongs
    result = smishguard(clean_env(tmp_path / "var"), "employees", "list", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(f"smishguard: error: cannot read the secret key at {tmp_path}/var/secret_key: ")
    assert "Traceback" not in result.stderr


def test_the_secret_key_is_made_once_and_kept(tmp_path):
    env = clean_env(tmp_path / "var")
    first = django_eval(env, "from django.conf import settings\nprint(settings.SECRET_KEY)").strip()
    again = django_eval(env, "from django.conf import settings\nprint(settings.SECRET_KEY)").strip()
    assert len(first) >= 50
    assert again == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_placeholder_secret_key_is_refused_at_start_with_one_line(tmp_path):
    env = clean_env(tmp_path / "var", SMISHGUARD_SECRET_KEY="change-me-to-50-random-characters")
    for argv in (["employees", "list"], ["migrate"], ["serve", "--bind", "127.0.0.1:0"]):
        result = smishguard(env, *argv, check=False)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith("smishguard: error: SMISHGUARD_SECRET_KEY is the placeholder"), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert "change-me-to-50-random-characters" not in result.stderr


def test_a_short_secret_key_is_refused_at_start_and_a_generated_one_is_not(tmp_path):
    short = clean_env(tmp_path / "var", SMISHGUARD_SECRET_KEY="0123456789abcdef")
    result = smishguard(short, "employees", "list", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("smishguard: error: SMISHGUARD_SECRET_KEY is too short"), result.stderr
    assert "0123456789abcdef" not in result.stderr
    generated = clean_env(tmp_path / "var")  # no key set: one is made under var/secret_key
    smishguard(generated, "migrate")
    assert smishguard(generated, "employees", "list").returncode == 0
