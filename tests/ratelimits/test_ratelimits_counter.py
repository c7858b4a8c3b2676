"""The shared counter under django-ratelimit: add and incr are each one atomic statement, shared by processes."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from hammer import hammer_at_once
from servers import clean_env, django_eval, smishguard

# Each worker waits for "go" on stdin, then counts as django-ratelimit does (add, else incr) `n` times.


@pytest.mark.parametrize("how", ["add_incr", "hit_many"])
def test_two_processes_hammering_one_key_are_counted_exactly(tmp_path, how):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    hammer_at_once(env, how)
    count = django_eval(
        env,
        "from django.conf import settings\nfrom django.core.cache import caches\n"
        "c = caches[settings.RATELIMIT_USE_CACHE]\nprint(c.get('hammered'), c.get('also-hammered'))",
    )
    assert count.split() == (["1000", "None"] if how == "add_incr" else ["1000", "1000"])


@pytest.fixture
def counters(db):
    """The database counters (in production mode the Redis store's fallback, the same class), in either mode."""
    from django.conf import settings

    configured = caches[settings.RATELIMIT_USE_CACHE]
    return getattr(configured, "database", configured)


def test_add_is_refused_while_a_live_counter_exists(counters):
    assert counters.add("k", 1, 60) is True
    assert counters.add("k", 1, 60) is False
    assert counters.incr("k") == 2
    assert counters.incr("k", 3) == 5
    assert counters.get("k") == 5


def test_incr_of_a_missing_key_raises_value_error_as_django_documents(counters):
    with pytest.raises(ValueError, match="not found"):
        counters.incr("absent")


def test_an_expired_counter_starts_again(counters, time_machine):
    time_machine.move_to("2026-01-01T00:00:00Z", tick=False)
    assert counters.add("w", 1, 10)
    assert counters.incr("w") == 2
    time_machine.move_to("2026-01-01T00:00:11Z", tick=False)
    assert counters.get("w") is None
    with pytest.raises(ValueError, match="not found"):
        counters.incr("w")
    assert counters.add("w", 1, 10) is True
    assert counters.get("w") == 1


def test_the_counter_keeps_integers_only(counters):
    with pytest.raises(TypeError):
        counters.set("x", "text", 10)


def test_the_statements_name_the_counter_models_table():
    from smishguard.ratelimits import cache
    from smishguard.ratelimits.models import Counter

    for name in ("_ADD", "_INCR", "_SET", "_GET", "_TOUCH", "_DELETE", "_CULL", "_CLEAR"):
        assert f" {Counter._meta.db_table} " in getattr(cache, name) + " "
