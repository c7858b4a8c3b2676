"""Production mode (SMISHGUARD_REDIS_URL): sessions and revocations are not cached, in Redis or anywhere; every
request reads its session from the database, so a revocation is refused on the very next request whether Redis
is up or stopped (a real redis-server, stopped by the test)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from redis_server import redis_server, with_redis  # noqa: F401 - the pytest fixtures, used by name

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Session
from smishguard.ratelimits.redis_cache import FailoverCounterCache

pytestmark = pytest.mark.django_db


@pytest.fixture
def counters_in_redis(with_redis):  # noqa: F811 - the fixture, used by name
    assert isinstance(caches[django_settings.RATELIMIT_USE_CACHE], FailoverCounterCache)
    return with_redis


@pytest.mark.parametrize("redis_state", ["up", "stopped"])
def test_a_revoked_session_is_refused_on_the_next_request(client, counters_in_redis, redis_state):
    employee = services.add_employee(email="ann@example.com", name="Ann Example")
    token, _ = sessions.create(employee, request=None)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = token
    assert client.get("/api/me").status_code == 200
    if redis_state == "stopped":
        counters_in_redis.stop()
        assert client.get("/api/me").status_code == 200  # a live session is still served from the database
    sessions.revoke(Session.objects.filter(employee=employee), reason="test")
    assert client.get("/api/me").status_code == 401
