"""/healthz and /readyz: unauthenticated, not rate-limited, no session looked up, nothing audited; /readyz names
what is wrong (an unapplied migration, a stopped Redis) with a 503."""

from __future__ import annotations

import contextlib

import modes
import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext
from redis_server import redis_server, with_redis  # noqa: F401 - the pytest fixtures, used by name

from smishguard.audit.models import Event

# The run's Redis in production mode (tests/support/modes.py); none in the embedded mode.
REDIS_EXPECTED = "ok" if modes.POSTGRES else "not configured"


@contextlib.contextmanager
def unrecorded(app: str, name: str):
    """The migration ``app.name`` recorded as not applied meanwhile.  SQLite: in the test's transaction (rolled
    back).  PostgreSQL: only the owner may write the migrations' record (the tests work as the services'
    restricted role), so the owner removes the row, committed, and puts it back after."""
    if not modes.POSTGRES:
        MigrationRecorder(connection).record_unapplied(app, name)
        yield
        return
    with psycopg.connect(modes.owner_url(connection.settings_dict["NAME"]), autocommit=True) as owner:
        (applied,) = owner.execute(
            "DELETE FROM django_migrations WHERE app = %s AND name = %s RETURNING applied", (app, name)
        ).fetchone()
        try:
            yield
        finally:
            restore = "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)"
            owner.execute(restore, (app, name, applied))


def test_healthz_says_ok_and_touches_nothing(client):
    """No database access is allowed in this test (no db fixture): pytest-django fails any query, so no session
    is looked up, nothing counted, nothing audited."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "a-session-token-that-would-be-looked-up"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"


def test_readyz_is_ready_on_a_migrated_database(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": REDIS_EXPECTED},
    }


def test_readyz_looks_up_no_session_counts_nothing_and_audits_nothing(db, client):
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "a-session-token-that-would-be-looked-up"
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
    touched = " ".join(q["sql"] for q in queries.captured_queries)
    for table in ("accounts_session", "ratelimits_counter", Event._meta.db_table):
        assert table not in touched
    assert not Event.objects.exists()


def test_health_is_never_rate_limited(db, client, settings):
    import dataclasses

    from smishguard.config import RateLimits

    tight = {f.name: "1/m" for f in dataclasses.fields(RateLimits) if f.name.endswith(("_address", "_account"))}
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(**tight))
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_a_load_balancer_probing_by_address_is_answered(db, client):
    """The Host header is not checked against ALLOWED_HOSTS: a probe names the backend's address."""
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200


def test_only_get_and_head(db, client):
    assert client.head("/healthz").status_code == 200
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("which", ["a leaf", "one below applied ones"])
def test_readyz_names_an_unapplied_migration(db, client, which):
    graph = MigrationLoader(connection).graph
    app, name = sorted(graph.leaf_nodes())[-1] if which == "a leaf" else ("accounts", "0001_initial")
    assert (app, name) in graph.nodes
    with unrecorded(app, name):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "migrations": "1 not applied", "redis": REDIS_EXPECTED}
    assert body["error"]["code"] == "not_ready"
    assert "migrations 1 not applied" in body["error"]["message"]
    assert client.get("/healthz").status_code == 200  # alive all the same


def test_readyz_names_a_stopped_redis_and_is_ready_again_when_it_returns(db, client, with_redis):  # noqa: F811
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == "ok"
    with_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "unreachable"}
    assert body["error"]["message"] == "not ready: redis unreachable"
    assert "127.0.0.1" not in response.content.decode()  # unauthenticated: no address, no error text
    assert client.get("/healthz").status_code == 200
    with_redis.start()
    assert client.get("/readyz").status_code == 200
