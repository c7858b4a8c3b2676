"""Issue 14: a changed route policy reaches a running web server on SIGHUP (``systemctl reload smishguard-web``).

A real ``smishguard serve`` (gunicorn, two workers) on its own data folder and database, in either mode, asked by
a client on 127.0.0.1 as nginx would: after the file changes and the master gets SIGHUP, every worker decides
with the new policy; a file that no longer loads changes nothing (the old policy stays, the log and the audit
trail say why); each change is audited once with both fingerprints."""

from __future__ import annotations

import http.client
import json
import signal
import tomllib

from servers import Database, clean_env, free_port, serve, smishguard, stop, wait_for
from waiting import wait_until

from smishguard.gateway import rules

BASE = """
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "app.example.com"
policy = "{policy}"
"""


def ask(port: int) -> tuple[int, str | None]:
    """The check's answer (status, X-Smishguard-Reason) for a signed-out GET of https://app.example.com/."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"X-Original-Method": "GET", "X-Original-URL": "https://app.example.com/"}
        connection.request("GET", "/api/authz/auth-request", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("X-Smishguard-Reason")
    finally:
        connection.close()


def steadily(port: int, expected: tuple[int, str]) -> bool:
    """Ten answers in a row are ``expected`` (both workers have answered, whichever gets each request)."""
    return all(ask(port) == expected for _ in range(10))


def test_sighup_takes_up_a_changed_policy_and_keeps_it_when_the_file_breaks(tmp_path):
    config = tmp_path / "smishguard.toml"
    config.write_text(BASE.format(policy="deny"), encoding="utf-8")
    env = clean_env(tmp_path / "data", SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    port, log = free_port(), tmp_path / "serve.log"
    server = serve(env, port, workers=2, log=log)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        assert steadily(port, (403, "forbidden"))
        first = rules.fingerprint(tomllib.loads(BASE.format(policy="deny")))
        second = rules.fingerprint(tomllib.loads(BASE.format(policy="signed_in")))

        config.write_text(BASE.format(policy="signed_in"), encoding="utf-8")
        server.send_signal(signal.SIGHUP)
        wait_until(lambda: steadily(port, (401, "signed_out")), "the new policy in every worker", process=server)
        wait_until(lambda: f"the route policy is now {second} (was {first}; 1 rules)" in log.read_text(), "the log")

        # A rule that does not load: the running policy stays, and the log and the audit trail say why.
        config.write_text(BASE.format(policy="signed_in") + 'resources = ["^/(a+)+$"]\n', encoding="utf-8")
        server.send_signal(signal.SIGHUP)
        wait_until(lambda: f"reload: the route policy stays {second}: " in log.read_text(), "the refusal in the log")
        assert "can backtrack catastrophically" in log.read_text()
        assert steadily(port, (401, "signed_out"))
        assert server.poll() is None
    finally:
        stop(server)
    with Database(env) as db:
        events = db.execute(
            "SELECT action, actor_label, detail FROM audit_event WHERE action LIKE ? ORDER BY id", ["gateway:policy:%"]
        ).fetchall()
    decoded = [
        (action, label, json.loads(detail) if isinstance(detail, str) else detail) for action, label, detail in events
    ]
    assert [(action, label) for action, label, _ in decoded] == [
        ("gateway:policy:reloaded", "system"),
        ("gateway:policy:reload_refused", "system"),
    ]
    reloaded, refused = decoded[0][2], decoded[1][2]
    assert (reloaded["previous"], reloaded["fingerprint"], reloaded["rules"], reloaded["via"]) == (
        first,
        second,
        1,
        "SIGHUP",
    )
    assert refused["running"] == second
    assert "can backtrack catastrophically" in refused["error"]


def test_sighup_with_an_unchanged_policy_records_nothing(tmp_path):
    config = tmp_path / "smishguard.toml"
    config.write_text(BASE.format(policy="deny"), encoding="utf-8")
    env = clean_env(tmp_path / "data", SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    port, log = free_port(), tmp_path / "serve.log"
    server = serve(env, port, workers=1, log=log)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        config.write_text("# only a comment added\n" + BASE.format(policy="deny"), encoding="utf-8")
        server.send_signal(signal.SIGHUP)
        wait_until(lambda: "reload: the route policy is unchanged" in log.read_text(), "the log", process=server)
        assert steadily(port, (403, "forbidden"))
    finally:
        stop(server)
    with Database(env) as db:
        assert db.execute("SELECT count(*) FROM audit_event WHERE action LIKE ?", ["gateway:policy:%"]).fetchone() == (
            0,
        )
