"""Issue 14: two processes racing over the assertion's signing key end with exactly one current key.

Real processes on a data folder of their own (a SQLite file, or in production mode a PostgreSQL database of its
own): both are started, set up Django, say they are ready, and are released at the same moment (a line on their
stdin: a barrier, no sleeps).  The race over the first key (the table emptied after `smishguard migrate` made
one): both get the same key, the loser's INSERT refused by the one-current-key constraint.  The race of two
`rotate-key`s: both succeed one after the other, one key is current, and every key they made is published."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from servers import Database, clean_env, django_eval, smishguard

PRELUDE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smishguard.settings")
import django
django.setup()
from smishguard.gateway import keys
print("ready", flush=True)
sys.stdin.readline()
"""

FIRST_KEY = PRELUDE + "print(json.dumps({'kid': keys.create_first().kid}), flush=True)\n"
ROTATE = PRELUDE + "print(json.dumps(keys.rotate(actor_label='race').as_dict()), flush=True)\n"


def race(env: dict[str, str], code: str) -> list[dict]:
    """Run ``code`` in two processes released together; their JSON answers."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        answers = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            answers.append(json.loads(out.strip().splitlines()[-1]))
        return answers
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def keys_in(env: dict[str, str]) -> list[tuple[str, bool]]:
    with Database(env) as db:
        return [(kid, bool(current)) for kid, current in db.execute("SELECT kid, current FROM gateway_signingkey")]


def test_two_processes_making_the_first_key_end_with_one(tmp_path: Path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    assert [current for _, current in keys_in(env)] == [True]  # `smishguard migrate` made the first key
    with Database(env, owner=True) as db:
        db.execute("DELETE FROM gateway_signingkey")

    first, second = race(env, FIRST_KEY)
    assert first["kid"] == second["kid"]
    assert keys_in(env) == [(first["kid"], True)]


def test_two_rotations_at_once_end_with_one_current_key_and_every_key_published(tmp_path: Path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    [(original, _)] = keys_in(env)

    first, second = race(env, ROTATE)
    assert first["kid"] != second["kid"]
    found = dict(keys_in(env))
    assert set(found) == {original, first["kid"], second["kid"]}
    current = [kid for kid, is_current in found.items() if is_current]
    assert len(current) == 1
    # One ran after the other: the first retired the original key, the second the first's new key.
    overtaken = ({first["kid"], second["kid"]} - set(current)).pop()
    assert sorted([*first["retired"], *second["retired"]]) == sorted([original, overtaken])
    published = django_eval(
        env, "from smishguard.gateway import keys; print(sorted(k['kid'] for k in keys.published()))"
    )
    assert published.strip() == str(sorted(found))
