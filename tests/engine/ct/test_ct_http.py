"""The HTTP client's pieces that need no server: Retry-After parsing and the backoff schedule."""

from __future__ import annotations

import datetime as dt

import pytest

from smishguard.engine.ct import HttpClient, LogRequestFailed, RetryPolicy, parse_retry_after

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_backoff_schedule_is_exponential_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.0)
    assert [policy.delay(n, None) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0, jitter=0.0)
    assert policy.delay(0, 12.0) == 12.0
    assert policy.delay(0, 3600.0) == 60.0


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.1)
    delays = [policy.delay(0, None) for _ in range(200)]
    assert all(1.0 <= d <= 1.1 for d in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "ct.example.com/log"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(LogRequestFailed, match="not an http"):
        HttpClient().get(url)
