"""Issue 11, items 2 and 10: the CLI's links use the origin the server was started with, and a command run where
nothing is set up leaves nothing behind (nor does ``smishguard serve`` write under $HOME).

The installed console script in throw-away folders, as a newcomer runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import clean_env, django_eval, free_port, stop
from waiting import BOUND, wait_until

EXE = Path(sys.executable).with_name("smishguard")


def bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_") and k != "DJANGO_SETTINGS_MODULE"}
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(extra)
    return env


def sg(folder: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *argv],
        cwd=folder,
        env=env or bare_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def everything_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# -- item 2: links on the port the demo serves ------------------------------------------------------------


def test_cli_links_use_the_port_the_demo_was_started_on(tmp_path):
    port = free_port()
    demo = sg(tmp_path, "demo", "--port", str(port), "--no-serve")
    assert demo.returncode == 0, demo.stderr
    assert f"http://localhost:{port}/enrol/" in demo.stdout
    added = sg(tmp_path, "employees", "add", "newcomer@example.com", "--name", "New Comer")
    assert added.returncode == 0, added.stderr
    invited = sg(tmp_path, "employees", "invite", "newcomer@example.com")
    assert invited.returncode == 0, invited.stderr
    assert f"http://localhost:{port}/enrol/" in invited.stdout
    assert "localhost:8000" not in invited.stdout
    # `employees approve` prints the recovery link on the same port: Sam (the demo's second admin, dated past
    # the waiting age by the demo) gets an old key, the newcomer a key that is now revoked.
    django_eval(
        clean_env(tmp_path / "var", sqlite=True),  # the demo's SQLite file under ./var, in either mode
        "import secrets\nfrom datetime import timedelta\nfrom django.utils import timezone\n"
        "from smishguard.accounts.models import Employee\nfrom smishguard.passkeys.models import Credential\n"
        "old = timezone.now() - timedelta(days=60)\n"
        "for email, revoked in (('sam.second@example.com', None), ('newcomer@example.com', timezone.now())):\n"
        "    Credential.objects.create(employee=Employee.objects.get(email=email), "
        "credential_id=secrets.token_bytes(16), public_key=b'k', created_at=old, revoked_at=revoked)\n",
    )
    asked = sg(tmp_path, "employees", "invite", "newcomer@example.com", "--json")
    assert asked.returncode == 0, asked.stderr
    request_id = json.loads(asked.stdout)["recovery_request"]
    approved = sg(tmp_path, "employees", "approve", str(request_id), "--as", "sam.second@example.com")
    assert approved.returncode == 0, approved.stderr
    assert f"http://localhost:{port}/enrol/" in approved.stdout
    # SMISHGUARD_ORIGIN, when set, still decides
    assert sg(tmp_path, "employees", "add", "late@example.com", "--name", "Late Comer").returncode == 0
    again = sg(
        tmp_path,
        "employees",
        "invite",
        "late@example.com",
        env=bare_env(SMISHGUARD_ORIGIN="https://sg.example.com"),
    )
    assert again.returncode == 0, again.stderr
    assert "https://sg.example.com/enrol/" in again.stdout


def test_the_demo_serves_the_origin_of_its_port_even_with_another_set(tmp_path):
    """WebAuthn checks the origin: the demo on --port N must use http://localhost:N, whatever was exported."""
    port = free_port()
    demo = sg(
        tmp_path, "demo", "--port", str(port), "--no-serve", env=bare_env(SMISHGUARD_ORIGIN="http://localhost:8000")
    )
    assert demo.returncode == 0, demo.stderr
    assert f"http://localhost:{port}/enrol/" in demo.stdout
    assert "localhost:8000/enrol" not in demo.stdout


# -- item 10: nothing created where nothing is set up --------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("employees", "list"),
        ("employees", "invite", "someone@example.com"),
        ("sessions", "list"),
        ("tokens", "list"),
        ("audit", "export"),
        ("serve", "--bind", "127.0.0.1:1"),
    ],
)
def test_a_command_in_an_empty_folder_creates_nothing(tmp_path, argv):
    folder = tmp_path / "empty"
    folder.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    result = sg(folder, *argv, env=bare_env(HOME=str(home)))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "not set up here" in result.stderr
    assert "Traceback" not in result.stderr
    assert everything_under(folder) == []
    assert everything_under(home) == []


def test_migrate_and_demo_still_create(tmp_path):
    assert sg(tmp_path, "migrate").returncode == 0
    assert (tmp_path / "var" / "smishguard.sqlite3").exists()
    assert (tmp_path / "var" / "secret_key").exists()


def test_serve_writes_nothing_under_home(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = bare_env(HOME=str(home))
    assert sg(folder, "migrate", env=env).returncode == 0
    assert everything_under(home) == []
    port = free_port()
    process = subprocess.Popen(
        [str(EXE), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    try:
        wait_until(answers, "smishguard serve answering", timeout=BOUND, process=process)
        assert everything_under(home) == []
    finally:
        stop(process)
    assert everything_under(home) == []


def test_a_database_restored_without_its_key_file_gets_a_new_key(tmp_path):
    assert sg(tmp_path, "migrate").returncode == 0
    (tmp_path / "var" / "secret_key").unlink()
    listed = sg(tmp_path, "employees", "list")
    assert listed.returncode == 0, listed.stderr
    assert (tmp_path / "var" / "secret_key").exists()


def test_another_database_without_a_secret_key_creates_nothing_here(tmp_path):
    env = bare_env(SMISHGUARD_DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing", HOME=str(tmp_path))
    result = sg(tmp_path, "employees", "list", env=env)
    assert result.returncode == 2
    assert "SMISHGUARD_SECRET_KEY" in result.stderr
    assert everything_under(tmp_path) == []
