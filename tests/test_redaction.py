"""One redaction for paths (access log, Django's loggers) and one for outgoing webhook URLs (logs, audit)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from log_formats import LOG_FORMATS, rendered

from smishguard.redaction import RedactSecretsFilter, redact_path, redact_url

TOKEN = "zbXUxq_o1g0fQZ3jVzgzYmz6EGCWiEglf0sbETYYmV8"
RID = "Qm7xL2vN9pR4tK8wZ3yB6cH1sD5fG0jA"  # the shape of training.links.new_rid()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/enrol/{TOKEN}", "/enrol/[redacted]"),
        (f"/enrol/{TOKEN}/", "/enrol/[redacted]/"),
        (f"/enrol/{TOKEN}/nope", "/enrol/[redacted]/nope"),
        (f"/enrol/{TOKEN}?x=1", "/enrol/[redacted]?x=1"),
        (f"/api/blocklists/rpz?token={TOKEN}", "/api/blocklists/rpz?token=[redacted]"),
        (f"/x?a=1&access_token={TOKEN}&b=2", "/x?a=1&access_token=[redacted]&b=2"),
        (f"/x?api_key={TOKEN}&secret={TOKEN}&sig={TOKEN}", "/x?api_key=[redacted]&secret=[redacted]&sig=[redacted]"),
        (f"/x?Token={TOKEN}", "/x?Token=[redacted]"),
        (f"/x?code={TOKEN}", "/x?code=[redacted]"),
        # A simulation's tracked link: the rid is a per-recipient token, at the root of a path only.
        (f"/s/{RID}", "/s/[redacted]"),
        (f"/s/{RID}/lesson", "/s/[redacted]/lesson"),
        (f"/s/{RID}?utm=1", "/s/[redacted]?utm=1"),
        (f'"GET /s/{RID} HTTP/1.1" 200', '"GET /s/[redacted] HTTP/1.1" 200'),
        (f"Not Found: /s/{RID}/nope", "Not Found: /s/[redacted]/nope"),
        (f"https://sim.example.com:8443/s/{RID}/lesson", "https://sim.example.com:8443/s/[redacted]/lesson"),
        (f"path=/s/{RID}", "path=/s/[redacted]"),
        ("/s/", "/s/"),
        ("/s", "/s"),
        ("/static/s/signin.css", "/static/s/signin.css"),
        ("/console/simulations/3/s/x", "/console/simulations/3/s/x"),
        ("/api/stix/s/bundle", "/api/stix/s/bundle"),
        ("/console/simulations/12", "/console/simulations/12"),
        ("/console/employees?q=ada&page=2", "/console/employees?q=ada&page=2"),
        ("/", "/"),
        ("", ""),
    ],
)
def test_redact_path(path, expected):
    assert redact_path(path) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/…"),
        ("http://127.0.0.1:9000/hook?sig=abc", "http://127.0.0.1:9000/…"),
        ("https://user:pass@chat.example.com/x", "https://chat.example.com/…"),
        ("https://chat.example.com", "https://chat.example.com/…"),
        ("hooks.slack.com/services/T/B/SECRET", "[a URL without a scheme]"),
        ("", ""),
        (None, ""),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_the_filter_redacts_django_request_records():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/enrol/{TOKEN}",), None
    )
    assert RedactSecretsFilter().filter(record)
    assert TOKEN not in record.getMessage()
    assert "/enrol/[redacted]" in record.getMessage()


def test_the_filter_redacts_the_dev_servers_request_line():
    record = logging.LogRecord(
        "django.server", logging.WARNING, __file__, 1, '"%s" %s %s', (f"GET /enrol/{TOKEN} HTTP/1.1", "404", "12"), None
    )
    RedactSecretsFilter().filter(record)
    assert TOKEN not in record.getMessage()


@pytest.mark.django_db
@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_djangos_4xx_log_lines_hold_no_token(caplog, log_format):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert Client().get(f"/enrol/{TOKEN}/nope").status_code == 404
        assert Client().get(f"/enrol/{TOKEN}").status_code == 400
        assert Client().get(f"/s/{RID}").status_code == 404  # no such recipient: a 404, logged
        assert Client().get(f"/s/{RID}/lesson").status_code == 404
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Not Found" in text
    assert TOKEN not in text
    assert RID not in text
    lines = rendered(caplog.records, log_format)
    assert "Not Found" in lines
    assert TOKEN not in lines
    assert RID not in lines
    assert "/s/[redacted]" in lines
    if log_format == "json":
        parsed = [json.loads(line) for line in lines.splitlines()]
        assert {line["path"] for line in parsed} >= {"/enrol/[redacted]/nope", "/s/[redacted]", "/s/[redacted]/lesson"}
        assert all(line["method"] == "GET" and line["request_id"] for line in parsed)


def test_a_malformed_hook_url_is_not_echoed_in_the_failure():
    from smishguard.webhooks import WebhookFailed, post_json

    with pytest.raises(WebhookFailed) as failed:
        post_json("http://127.0.0.1:9/T0SECRET/X\nY", {"a": 1}, key="k", user_agent="test", timeout=5)
    assert "T0SECRET" not in str(failed.value)
    assert not failed.value.retry
    assert "http://127.0.0.1:9/…" in str(failed.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@redis.internal:6379/0", "redis://:[redacted]@redis.internal:6379/0"),
        ("rediss://app:s3cret@redis.internal:6380/1", "rediss://app:[redacted]@redis.internal:6380/1"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "redis://h/0?password=s3cret&ssl_cert_reqs=required",
            "redis://h/0?password=[redacted]&ssl_cert_reqs=required",
        ),
        (
            "postgresql://smishguard:s3cret@db.internal/smishguard?sslmode=verify-full",
            "postgresql://smishguard:[redacted]@db.internal/smishguard?sslmode=verify-full",
        ),
        ("redis://u@h:99999999/0", "[an invalid URL]"),
        ("", ""),
    ],
)
def test_redact_credentials_keeps_everything_but_the_password(url, shown):
    from smishguard.redaction import redact_credentials

    assert redact_credentials(url) == shown
