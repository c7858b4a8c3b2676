"""The rate-limit counters in Redis (SMISHGUARD_REDIS_URL): counted exactly by two processes, under the
"smishguard:" prefix, with their expiry; with Redis stopped they are counted in the database (the log says so
once) and nothing over a limit is admitted; when Redis is back they are counted in Redis again.  A real
redis-server (tests/support/redis_server.py), stopped and started again by the tests."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from hammer import hammer_at_once
from redis_server import redis_server  # noqa: F401 - the pytest fixture, used by name
from servers import clean_env, django_eval, smishguard
from waiting import wait_until

from smishguard.config import RateLimits
from smishguard.ratelimits.models import Counter
from smishguard.ratelimits.redis_cache import FailoverCounterCache


@pytest.mark.parametrize("how", ["add_incr", "hit_many"])
def test_two_processes_hammering_one_key_through_redis_are_counted_exactly(tmp_path, redis_server, how):  # noqa: F811
    env = clean_env(tmp_path / "var", SMISHGUARD_REDIS_URL=redis_server.url)
    smishguard(env, "migrate")
    for err in hammer_at_once(env, how):
        assert "unreachable" not in err  # counted in Redis all along, never in the database
    count = django_eval(
        env,
        "from django.conf import settings\nfrom django.core.cache import caches\n"
        "from smishguard.ratelimits.models import Counter\n"
        "c = caches[settings.RATELIMIT_USE_CACHE]\nprint(c.get('hammered'), c.get('also-hammered'), "
        "Counter.objects.count())",
    )
    assert count.split() == (["1000", "None", "0"] if how == "add_incr" else ["1000", "1000", "0"])
    raw = redis.Redis.from_url(redis_server.url)
    keys = sorted(raw.keys("*"))
    assert keys == (
        [b"smishguard:1:hammered"] if how == "add_incr" else [b"smishguard:1:also-hammered", b"smishguard:1:hammered"]
    )
    assert all(0 < raw.pttl(key) <= 600_000 for key in keys)  # every counter keeps its expiry


def failover(url: str) -> FailoverCounterCache:
    return FailoverCounterCache(url, {"KEY_PREFIX": "smishguard", "OPTIONS": {"RETRY_SECONDS": 0.05}})


def test_redis_counters_behave_as_the_database_counters(redis_server):  # noqa: F811
    counters = failover(redis_server.url)
    assert counters.add("k", 1, 60) is True
    assert counters.add("k", 1, 60) is False
    assert counters.incr("k") == 2
    assert counters.incr("k", 3) == 5
    assert counters.get("k") == 5
    with pytest.raises(ValueError, match="not found"):
        counters.incr("absent")
    assert redis.Redis.from_url(redis_server.url).exists("smishguard:1:absent") == 0  # incr made no key
    assert counters.hit_many({"a": 60, "b": 30}) == {"a": 1, "b": 1}
    assert counters.hit_many({"a": 60, "b": 30}) == {"a": 2, "b": 2}
    assert 0 < redis.Redis.from_url(redis_server.url).pttl("smishguard:1:b") <= 30_000
    assert counters.in_redis


def test_clear_deletes_only_our_prefixed_keys_in_a_shared_redis(db, redis_server):  # noqa: F811
    raw = redis.Redis.from_url(redis_server.url)
    raw.set("someone-else:key", "kept")
    counters = failover(redis_server.url)
    counters.hit_many({"a": 60})
    counters.clear()
    assert raw.keys("*") == [b"someone-else:key"]


def test_with_redis_stopped_the_counters_are_in_the_database_and_back_in_redis_when_it_returns(
    db,
    redis_server,  # noqa: F811
    caplog,
):
    counters = failover(redis_server.url)
    assert counters.hit_many({"k": 60}) == {"k": 1}
    assert Counter.objects.count() == 0
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="smishguard.ratelimits"):
        for n in range(1, 6):  # counted, in the database: the limit still holds
            assert counters.hit_many({"k": 60}) == {"k": n}
        assert not counters.in_redis
        assert Counter.objects.count() == 1
        assert counters.get("k") == 5
        down = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(down) == 1  # once, not per request
        assert "rate limits are counted in the database" in down[0].getMessage()
        redis_server.start()  # an empty Redis on the same port
        wait_until(lambda: counters.hit_many({"k": 60})["k"] == 1, "the counters to be in Redis again")
        assert counters.in_redis
        back = [r for r in caplog.records if "is back" in r.getMessage()]
        assert len(back) == 1
        assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    assert redis.Redis.from_url(redis_server.url).get("smishguard:1:k") == b"1"


def test_a_redis_password_never_reaches_the_log(db, tmp_path, caplog):
    from redis_server import RedisServer

    server = RedisServer(tmp_path, password="hunter2-very-secret")
    server.start()
    try:
        counters = failover(server.url)
        assert counters.hit_many({"k": 60}) == {"k": 1}  # the password is used
        server.stop()
        with caplog.at_level(logging.WARNING, logger="smishguard.ratelimits"):
            assert counters.hit_many({"k": 60}) == {"k": 1}  # in the database now
        assert "unreachable" in caplog.text
        assert "hunter2" not in caplog.text
        assert f"redis://:[redacted]@127.0.0.1:{server.port}/0" in caplog.text
    finally:
        server.stop()


@pytest.fixture
def redis_limits(settings, redis_server):  # noqa: F811
    """The rate-limit cache as settings.py makes it in production mode, on the test's redis-server."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "smishguard.ratelimits.redis_cache.FailoverCounterCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "smishguard",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0, "RETRY_SECONDS": 0.05},
        },
    }

    def apply(**changes: str) -> None:
        loose = {
            f.name: "100000/m" for f in dataclasses.fields(RateLimits) if f.name.endswith(("_address", "_account"))
        }
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(**{**loose, **changes}))

    return apply


def login_options(client, email: str):
    return client.post(
        "/api/webauthn/login/options",
        data=json.dumps({"email": email}),
        content_type="application/json",
        HTTP_ORIGIN=django_settings.SMISHGUARD.origin,
    )


def test_a_limit_holds_across_a_redis_outage_and_nothing_over_it_is_admitted(db, client, redis_limits, redis_server):  # noqa: F811
    redis_limits(signin_address="4/m")
    counters = caches[django_settings.RATELIMIT_USE_CACHE]
    assert isinstance(counters, FailoverCounterCache)
    for n in range(4):
        assert login_options(client, f"p{n}@example.com").status_code == 200
    assert login_options(client, "over@example.com").status_code == 429  # counted in Redis
    assert Counter.objects.count() == 0
    redis_server.stop()
    # In the database now, from zero: four more are admitted in this window, then refused; never a 500, never
    # an uncounted request.
    statuses = [login_options(client, f"d{n}@example.com").status_code for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert Counter.objects.exists()  # (django-ratelimit's keys are digests)
    redis_server.start()
    wait_until(counters.ping, "Redis to answer again")
    statuses = [login_options(client, f"r{n}@example.com").status_code for n in range(6)]
    assert statuses[-1] == 429  # back in Redis (its counters started empty): held back again
    assert redis.Redis.from_url(redis_server.url).keys("smishguard:*")


def test_rediss_with_a_password_counts_over_tls_and_the_password_is_needed(db, tmp_path):
    """The production URL form of docs/deploy.md: rediss:// (certificate and host name checked against the CA)
    with a password."""
    from redis_server import RedisServer

    server = RedisServer(tmp_path, password="tls-redis-password", tls=True)
    server.start()
    try:
        assert server.url.startswith("rediss://:tls-redis-password@localhost:")
        counters = failover(server.url)
        assert counters.ping()
        assert counters.hit_many({"k": 60}) == {"k": 1}
        assert counters.hit_many({"k": 60}) == {"k": 2}
        assert counters.in_redis
        assert Counter.objects.count() == 0
        plain = server.url.replace("rediss://", "redis://").partition("?")[0]  # no TLS: the server does not answer
        assert not failover(plain).ping()
        wrong = server.url.replace("tls-redis-password", "wrong-password")
        assert not failover(wrong).ping()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("rediss://:pw@redis.internal:6380/0?ssl_ca_certs=/etc/ca.pem", None),
        ("redis://:pw@127.0.0.1:6379/0", None),
        ("redis://:pw@redis.internal:6379/0?ssl_ca_certs=/etc/ca.pem", "ssl_"),
        ("http://redis.internal:6379/0", "must start with"),
    ],
)
def test_the_redis_url_is_checked_when_read_and_never_echoed(monkeypatch, url, refused):
    from smishguard import config

    monkeypatch.setenv("SMISHGUARD_REDIS_URL", url)
    if refused is None:
        assert config.redis_url() == url
        return
    with pytest.raises(config.ConfigError, match=refused) as caught:
        config.redis_url()
    assert "pw" not in str(caught.value)
