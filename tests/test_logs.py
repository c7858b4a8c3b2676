"""SMISHGUARD_LOG_FORMAT=json: every line a JSON object with its fields, from Django, smishguard and `smishguard
serve`'s gunicorn alike; no secret in any of them; a bad value refused at start in one line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from servers import VENV_BIN, clean_env, free_port, serve, smishguard, stop, wait_for
from waiting import wait_until

from smishguard.logs import JsonFormatter, iso_time

TOKEN = "zbXUxq_o1g0fQZ3jVzgzYmz6EGCWiEglf0sbETYYmV8"
QUERY_SECRET = "sg_not-a-real-token-0123456789"


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("smishguard.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_record_becomes_one_json_object_with_time_level_logger_and_message():
    record = _record("hello %s", "world")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields == {
        "time": iso_time(record.created),
        "level": "WARNING",
        "logger": "smishguard.test",
        "message": "hello world",
    }
    assert fields["time"].endswith("Z")
    assert "T" in fields["time"]


def test_the_json_line_redacts_tokens_in_the_message_the_path_and_the_traceback():
    try:
        raise ValueError(f"bad link /enrol/{TOKEN}")
    except ValueError:
        exc_info = sys.exc_info()
    record = _record("GET /enrol/%s?token=%s", TOKEN, QUERY_SECRET, path=f"/enrol/{TOKEN}", status=404)
    record.exc_info = exc_info
    line = JsonFormatter().format(record)
    assert TOKEN not in line
    assert QUERY_SECRET not in line
    fields = json.loads(line)
    assert fields["path"] == "/enrol/[redacted]"
    assert fields["status"] == 404
    assert "ValueError" in fields["exception"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SMISHGUARD_LOG_FORMAT", "yaml", "SMISHGUARD_LOG_FORMAT must be text or json, not 'yaml'"),
        ("SMISHGUARD_METRICS_TOKEN", "short", "SMISHGUARD_METRICS_TOKEN must be at least 32 printable ASCII"),
        ("SMISHGUARD_METRICS_TOKEN_FILE", "/nonexistent/token", "SMISHGUARD_METRICS_TOKEN_FILE (/nonexistent/token)"),
    ],
)
def test_a_bad_log_format_or_metrics_token_is_refused_at_start_in_one_line(tmp_path, variable, value, message):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    result = smishguard({**env, variable: value}, "serve", "--bind", f"127.0.0.1:{free_port()}", check=False)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smishguard: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def _get(url: str, **headers: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback test server
            reply.read()
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, dict(exc.headers)


def test_serve_with_json_logs_writes_only_json_lines_with_the_request_fields_and_no_secret(tmp_path):
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_LOG_FORMAT="json",
        SMISHGUARD_LOG_LEVEL="INFO",
        SMISHGUARD_TRUSTED_PROXIES="127.0.0.1/32",
    )
    smishguard(env, "migrate")
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    process = subprocess.Popen(
        [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=open(out, "w"),  # noqa: SIM115 - lives as long as the server
        stderr=open(err, "w"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/healthz")
        me_status, me_headers = _get(url + "/api/me", **{"X-Forwarded-For": "203.0.113.9"})
        enrol_status, _ = _get(url + f"/enrol/{TOKEN}/nope")
        rpz_status, _ = _get(url + f"/api/blocklists/rpz?token={QUERY_SECRET}")
        assert (me_status, enrol_status, rpz_status) == (401, 404, 401)
        wait_until(lambda: "/api/blocklists/rpz" in out.read_text(), "the third request's access line", process=process)
    finally:
        stop(process)
    stdout, stderr = out.read_text(), err.read_text()
    for text in (stdout, stderr):
        assert TOKEN not in text
        assert QUERY_SECRET not in text
    lines = [json.loads(line) for line in (stdout + stderr).splitlines()]  # every line is one JSON object
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
        assert line["time"].endswith("Z")
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.access", "gunicorn.error", "django.request"} <= loggers, loggers
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line["path"] != "/healthz"]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/api/me", 401),
        ("GET", "/enrol/[redacted]/nope", 404),
        ("GET", "/api/blocklists/rpz", 401),
    ]
    for a in access:
        assert {"duration_ms", "client", "request_id"} <= a.keys()
        assert a["duration_ms"] >= 0
        assert len(a["request_id"]) >= 8
    assert access[0]["client"] == "203.0.113.9"  # X-Forwarded-For from a trusted proxy, as clientaddr decides
    assert access[1]["client"] == "127.0.0.1"
    assert access[0]["request_id"] == me_headers["X-Request-ID"]
    assert len({a["request_id"] for a in access}) == 3
    # Django's "Not Found" line about the enrolment link: the same request's id, the path redacted.
    [not_found] = [line for line in lines if line["logger"] == "django.request" and line.get("status") == 404]
    assert not_found["path"] == "/enrol/[redacted]/nope"
    assert not_found["request_id"] == access[1]["request_id"]


def test_serve_without_a_log_format_keeps_the_text_lines(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    port = free_port()
    out = tmp_path / "serve.out"
    process = serve(env, port, log=out)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        wait_until(lambda: "/healthz" in out.read_text(), "the access line", process=process)
    finally:
        stop(process)
    for line in out.read_text().splitlines():
        assert not line.startswith("{"), line
