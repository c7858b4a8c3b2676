"""`smishguard doctor`: what is configured (no password), what is reachable, what is unsafe; exit status 1 when
anything is unsafe or unreachable.  Run as an operator runs it, in its own process, against a real
redis-server."""

from __future__ import annotations

import json

import modes
import pytest
from redis_server import RedisServer, redis_server  # noqa: F401 - the pytest fixture, used by name
from servers import as_owner, clean_env, django_eval, smishguard

from smishguard.config import SECRET_KEY_PLACEHOLDER


@pytest.fixture
def migrated(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    return env


def doctor(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = smishguard(env, "doctor", *args, check=False)
    assert result.stderr == "" or "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def lines_of(out: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in out.splitlines()[:-1]:
        kind, name, value = line.split(None, 2)
        found[(kind, name)] = value
    return found


def test_a_safe_install_with_redis_is_ok_and_shows_no_password(tmp_path):
    server = RedisServer(tmp_path, password="hunter2-very-secret")
    server.start()
    try:
        # A SQLite install with Redis, in either mode (the database line below is SQLite's).
        env = clean_env(
            tmp_path / "var", sqlite=True, SMISHGUARD_REDIS_URL=server.url, SMISHGUARD_TRUSTED_PROXIES="127.0.0.1"
        )
        smishguard(env, "migrate")
        code, out = doctor(env)
        assert code == 0, out
        found = lines_of(out)
        assert found[("configured", "database")] == f"sqlite at {tmp_path / 'var' / 'smishguard.sqlite3'}"
        assert found[("configured", "redis")] == f"redis://:[redacted]@127.0.0.1:{server.port}/0"
        assert found[("configured", "origin")] == "http://localhost:8000"
        assert found[("configured", "rp_id")] == "localhost"
        assert found[("configured", "twilio")] == "not configured"
        assert found[("configured", "trusted_proxies")] == "127.0.0.1/32"
        assert found[("reachable", "database")] == "ok"
        assert found[("reachable", "migrations")] == "ok"
        assert found[("reachable", "redis")] == "ok"
        assert not [key for key in found if key[0] == "unsafe"]
        assert out.splitlines()[-1].startswith("ok")
        assert "hunter2" not in out

        server.stop()
        code, out = doctor(env, "--json")
        assert code == 1
        report = json.loads(out)
        assert report["reachable"]["redis"] == "unreachable"
        assert report["ok"] is False
        assert "hunter2" not in out
    finally:
        server.stop()


def test_debug_and_a_plain_http_origin_are_unsafe(migrated):
    env = {**migrated, "SMISHGUARD_DEBUG": "1", "SMISHGUARD_ORIGIN": "http://smishguard.example.com"}
    code, out = doctor(env, "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report["unsafe"]) == {"debug", "origin"}
    assert "http://smishguard.example.com" in report["unsafe"]["origin"]
    redis = "ok" if modes.POSTGRES else "not configured"  # production mode's servers get the run's Redis
    assert report["reachable"] == {"database": "ok", "migrations": "ok", "redis": redis}
    assert report["ok"] is False


def test_https_origin_twilio_configured_and_no_debug_is_ok(migrated):
    env = {
        **migrated,
        "SMISHGUARD_ORIGIN": "https://smishguard.example.com",
        "SMISHGUARD_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SMISHGUARD_TWILIO_AUTH_TOKEN": "an-auth-token-never-printed",
        "SMISHGUARD_TWILIO_FROM": "+15005550006",
    }
    code, out = doctor(env)
    assert code == 0, out
    assert lines_of(out)[("configured", "twilio")] == "configured"
    assert lines_of(out)[("configured", "rp_id")] == "smishguard.example.com"
    assert "an-auth-token-never-printed" not in out


@pytest.mark.parametrize("key", [SECRET_KEY_PLACEHOLDER, "short-key-1234"])
def test_a_placeholder_or_short_secret_key_is_unsafe_and_never_printed(migrated, key):
    code, out = doctor({**migrated, "SMISHGUARD_SECRET_KEY": key})
    assert code == 1
    found = lines_of(out)
    assert found[("unsafe", "secret_key")].startswith("SMISHGUARD_SECRET_KEY ")
    assert key not in out
    # the server would refuse this key, so Django is not started: the database is said not checked
    assert found[("reachable", "database")].startswith("not checked")


def test_an_unapplied_migration_is_said_even_below_applied_ones(migrated):
    django_eval(
        as_owner(migrated),  # only the owner may write the migrations' record (the services' role reads it)
        "from django.db import connection\nfrom django.db.migrations.recorder import MigrationRecorder\n"
        "MigrationRecorder(connection).record_unapplied('accounts', '0001_initial')",
    )
    code, out = doctor(migrated)
    assert code == 1
    assert lines_of(out)[("reachable", "migrations")] == "1 not applied: run `smishguard migrate`"


def test_a_folder_that_is_not_set_up_is_said_and_nothing_is_created(tmp_path):
    env = clean_env(tmp_path / "var", sqlite=True)  # a SQLite folder: PostgreSQL's database is not in the folder
    code, out = doctor(env)
    assert code == 1
    assert "not set up here" in lines_of(out)[("reachable", "database")]
    assert not (tmp_path / "var").exists()


def test_an_unreachable_postgresql_is_said_without_its_password(tmp_path):
    from servers import free_port

    port = free_port()  # nothing listens there
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_DATABASE_URL=f"postgresql://smishguard:pg-password-never-shown@127.0.0.1:{port}/smishguard?sslmode=verify-full",
        SMISHGUARD_SECRET_KEY="x7Kp2vQ9mZr4Tb8Wn3Ls6Yd1Hc5Fg0Ja-Ue_Ri2Oq8Ps4Vt7Xw9Zy3Mb6Nk1Ld5Ej",
        SMISHGUARD_ORIGIN="https://login.example.com",
    )
    code, out = doctor(env)
    assert code == 1
    found = lines_of(out)
    assert found[("configured", "database")] == (
        f"postgresql on 127.0.0.1:{port}, database smishguard, user smishguard, sslmode=verify-full"
    )
    assert found[("reachable", "database")] == "unreachable"
    assert found[("reachable", "migrations")] == "not checked"
    assert not [key for key in found if key[0] == "unsafe"]
    assert "pg-password-never-shown" not in out


def test_doctor_shows_the_log_format_and_whether_metrics_have_a_token_and_refuses_bad_ones(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    token = "m3tr1cs-t0ken-for-the-tests-0123456789abcdef"
    code, out = doctor({**env, "SMISHGUARD_LOG_FORMAT": "json", "SMISHGUARD_METRICS_TOKEN": token})
    found = lines_of(out)
    assert found[("configured", "log_format")] == "json"
    assert found[("configured", "metrics")] == "token set: GET /metrics"
    assert token not in out
    code, out = doctor(env)
    assert lines_of(out)[("configured", "log_format")] == "text"
    assert lines_of(out)[("configured", "metrics")] == "not configured (/metrics answers 404)"
    code, out = doctor({**env, "SMISHGUARD_LOG_FORMAT": "xml", "SMISHGUARD_METRICS_TOKEN": "short"})
    assert code == 1
    found = lines_of(out)
    assert found[("unsafe", "log_format")] == "SMISHGUARD_LOG_FORMAT must be text or json, not 'xml'"
    assert found[("unsafe", "metrics_token")].startswith("SMISHGUARD_METRICS_TOKEN must be at least 32")
