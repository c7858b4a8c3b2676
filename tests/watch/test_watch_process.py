"""The real ``smishguard watch ct`` process: crashes (kill -9) and restarts lose nothing and repeat nothing;
several logs at once; follow mode with the figures line; a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from ct_logs import RFC6962Log, StaticCTLog
from waiting import BOUND, wait_until
from watch_support import write_log_list

N_ENTRIES = 40


def lookalike(n: int) -> str:
    return f"h{n}.twilio-okta.com"


def lookalike_log(log, ca, n: int = N_ENTRIES):
    """Every even entry holds a lookalike (and an official name); every odd one only official names."""
    for i in range(n):
        names = [lookalike(i), "www.twilio.com"] if i % 2 == 0 else [f"n{i}.twilio.com"]
        log.add(ca.issue(names, precert=i % 4 == 0))
    return {lookalike(i) for i in range(0, n, 2)}


class GatedLog(RFC6962Log):
    """An RFC 6962 log that holds every get-entries request from entry ``hold_from`` on until ``release`` is set
    (so that a kill lands mid-run, at a known entry, however fast or slow the machine)."""

    def __init__(self, *args, hold_from: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hold_from = hold_from
        self.held = threading.Event()
        self.release = threading.Event()

    def handle(self, path: str):
        parts = urlsplit(path)
        if parts.path.endswith("/get-entries") and int(parse_qs(parts.query)["start"][0]) >= self.hold_from:
            self.held.set()
            self.release.wait(BOUND)  # bounded: a test that fails before releasing leaves no thread behind
        return super().handle(path)


def assert_exactly_once(site, expected: set[str], jsonl) -> None:
    alerts = dict(site.query("SELECT domain, id FROM watch_lookalikealert"))
    assert set(alerts) == expected  # every lookalike, and nothing else
    assert site.query("SELECT count(*) FROM watch_sighting") == [(len(expected),)]  # no entry matched twice
    assert site.query("SELECT DISTINCT times_seen FROM watch_lookalikealert") == [(1,)]
    lines = [json.loads(x) for x in jsonl.read_text().splitlines() if x.strip()]
    counts = Counter(x["alert_id"] for x in lines)
    assert counts == Counter(alerts.values())  # the sink got each alert exactly once
    assert site.query("SELECT DISTINCT status FROM watch_sinkdelivery") == [("delivered",)]


def test_crash_between_matching_and_commit_then_after_the_sink_write(site, ca, tmp_path, brands_file):
    log = RFC6962Log(ca, description="Crash log")
    expected = lookalike_log(log, ca)
    jsonl = tmp_path / "alerts.jsonl"
    with log:
        args = (
            "watch", "ct", "--log-list", str(write_log_list(tmp_path / "l.json", log)), "--once",
            "--start", "beginning", "--batch-size", "8", "--jsonl", str(jsonl), "--config", str(brands_file),
        )  # fmt: skip
        # 1. Fault injection: exit(137) after matching 20 entries, in the middle of the third batch (16..23),
        #    before its commit.
        first = site.run(*args, SMISHGUARD_TEST_CRASH_AFTER_ENTRIES="20")
        assert first.returncode == 137
        assert site.query("SELECT next_index FROM watch_logstate") == [(16,)]
        assert site.query("SELECT count(*) FROM watch_lookalikealert") == [(8,)]  # entries 0..15 only
        assert len(jsonl.read_text().splitlines()) == 8

        # 2. Exit(137) after the sink lines of the next batch are written and before they are marked delivered.
        second = site.run(*args, SMISHGUARD_TEST_CRASH_AFTER_SINK_LINES="4")
        assert second.returncode == 137
        assert site.query("SELECT next_index FROM watch_logstate") == [(24,)]
        assert site.query("SELECT count(*) FROM watch_sinkdelivery WHERE status = 'pending'") == [(4,)]
        assert len(jsonl.read_text().splitlines()) == 12

        # 3. Restart: finishes the log; the lines already written are recognised, not written again.
        third = site.run(*args)
        assert third.returncode == 0, third.stderr
    assert site.query("SELECT next_index, tree_size FROM watch_logstate") == [(N_ENTRIES, N_ENTRIES)]
    assert_exactly_once(site, expected, jsonl)


def test_kill_9_mid_run_and_restart(site, ca, tmp_path, brands_file):
    log = GatedLog(ca, description="Gated log", hold_from=15)
    expected = lookalike_log(log, ca, 60)
    jsonl = tmp_path / "alerts.jsonl"
    with log:
        args = (
            "watch", "ct", "--log-list", str(write_log_list(tmp_path / "l.json", log)), "--once",
            "--start", "beginning", "--batch-size", "3", "--jsonl", str(jsonl), "--config", str(brands_file),
        )  # fmt: skip
        process = subprocess.Popen(
            site.command(*args), env=site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            # The watcher has committed entries 0..14 (batches of 3) and waits for the log's answer on 15..17.
            wait_until(log.held.is_set, "the watcher asking for entries from 15 on", process=process)
            killed_at = site.query("SELECT next_index FROM watch_logstate")[0][0]
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            log.release.set()
        assert process.returncode == -signal.SIGKILL
        assert killed_at == 15, "the watcher should be part-way through the log"
        restart = site.run(*args)
        assert restart.returncode == 0, restart.stderr
    assert site.query("SELECT next_index FROM watch_logstate") == [(60,)]
    assert_exactly_once(site, expected, jsonl)
    # The restart asked for nothing before the checkpoint it resumed from.
    asks = [p for p in log.requests if "get-entries" in p]
    assert any(p.endswith(f"start={killed_at}&end={killed_at + 2}") for p in asks)


def test_several_logs_followed_with_figures_and_a_clean_stop(site, ca, tmp_path, brands_file):
    rfc = RFC6962Log(ca, description="Follow RFC log")
    tiled = StaticCTLog(ca, description="Follow tiled log")
    expected = lookalike_log(rfc, ca, 10)
    for i in range(300):  # more than a full tile
        tiled.add(ca.issue([f"t{i}.twilio.com"] if i != 290 else ["twilio-helpdesk.com"]))
    expected.add("twilio-helpdesk.com")
    stdout_path, stderr_path = tmp_path / "watch.out", tmp_path / "watch.err"
    with rfc, tiled, open(stdout_path, "w") as stdout, open(stderr_path, "w") as stderr:
        process = subprocess.Popen(
            site.command(
                "watch", "ct", "--log-list", str(write_log_list(tmp_path / "l.json", rfc, tiled)), "--json",
                "--start", "beginning", "--poll-interval", "0.2", "--stats-interval", "0.3",
                "--config", str(brands_file),
            ),
            env=site.env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:

            def alerts() -> int:
                rows = site.query("SELECT count(*) FROM watch_lookalikealert")
                return rows[0][0]

            wait_until(lambda: alerts() >= len(expected), "an alert for each lookalike of both logs", process=process)
            assert alerts() == len(expected)
            # New certificates while following: picked up at the next tree head, except under a tree head
            # whose signature fails: that log stays where it was until its heads verify again.
            rfc.faults.bad_signature = True
            rfc.add(ca.issue(["twilio-vpn.com"]))
            tiled.add(ca.issue(["twilio-mfa.com"], precert=True))

            def rfc_error() -> str:
                return site.query("SELECT last_error FROM watch_logstate WHERE description = 'Follow RFC log'")[0][0]

            wait_until(
                lambda: alerts() >= len(expected) + 1 and rfc_error(),
                "the tiled log's new alert and the RFC log's refused tree head",
                process=process,
            )
            assert rfc_error().startswith("tree head refused")
            assert site.query("SELECT next_index FROM watch_logstate WHERE description = 'Follow RFC log'") == [(10,)]
            assert site.query("SELECT domain FROM watch_lookalikealert WHERE domain = 'twilio-vpn.com'") == []
            rfc.faults.bad_signature = False
            wait_until(lambda: alerts() >= len(expected) + 2, "the RFC log's new alert", process=process)
            printed_before = len(stderr_path.read_text())

            def caught_up() -> bool:  # a figures line, printed after the last alert, with both logs caught up
                lines = stderr_path.read_text()[printed_before:].splitlines()
                return any("entries/s" in x and "Follow RFC log 0" in x and "Follow tiled log 0" in x for x in lines)

            wait_until(caught_up, "a figures line with both logs caught up", process=process)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=BOUND)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    out, err = stdout_path.read_text(), stderr_path.read_text()
    assert process.returncode == 0, err
    printed = [json.loads(x)["domain"] for x in out.splitlines()]
    assert sorted(printed) == sorted([*expected, "twilio-vpn.com", "twilio-mfa.com"])
    states = dict(site.query("SELECT description, next_index FROM watch_logstate"))
    assert states == {"Follow RFC log": 11, "Follow tiled log": 301}
    figures = [x for x in err.splitlines() if x.startswith("ct: ") and "entries/s" in x]
    assert figures, err
    assert "names/s" in figures[-1]
    assert "lag: " in figures[-1]
    assert "Follow RFC log 0" in figures[-1]
    assert "Follow tiled log 0" in figures[-1]
    assert "stopping after the current batch" in err
    assert "Follow RFC log: tree head refused" in err
    refusals = site.query("SELECT subject_label FROM audit_event WHERE action = 'watch:tree_head:refused'")
    assert refusals == [("Follow RFC log",)]  # audited once, however many polls it lasted


def test_live_display_on_a_terminal(site, ca, tmp_path, brands_file):
    import pty

    log = RFC6962Log(ca, description="Terminal log")
    lookalike_log(log, ca, 6)
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with log:
        process = subprocess.Popen(
            site.command(
                "watch", "ct", "--log-list", str(write_log_list(tmp_path / "l.json", log)), "--start", "beginning",
                "--poll-interval", "0.2", "--config", str(brands_file),
            ),
            env={**site.env, "TERM": "xterm"}, stdout=subprocess.DEVNULL, stderr=slave,
        )  # fmt: skip
        os.close(slave)
        try:
            wait_until(lambda: b"caught up" in b"".join(chunks), "the live display's 'caught up'", process=process)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=BOUND) == 0
        finally:
            if process.poll() is None:
                process.kill()
    reader.join(timeout=5)
    os.close(master)
    screen = b"".join(chunks).decode()
    assert "smishguard watch ct: 6 entries, 9 names, 3 new alert(s)" in screen
    assert "Terminal log" in screen
    assert "6/6 lag           0" in screen
    assert "\x1b[2F\x1b[J" in screen  # the block is redrawn in place
    assert "smishguard: stopping after the current batch" in screen
    assert "ct: done in" in screen


def test_a_log_answering_deeply_nested_json_does_not_stop_the_watcher(site, ca, tmp_path, brands_file):
    # Issue 10, item 12: one log answering JSON nested 100,000 deep gets its error recorded (and shown by
    # `watch status`); the watcher goes on reading the other log, and reads this one once it answers well.
    deep = RFC6962Log(ca, description="Deep log")
    for name in ("twilio-vpn.com", "twilio-helpdesk.com"):
        deep.add(ca.issue([name]))
    deep.faults.nested_json = True
    good = RFC6962Log(ca, description="Good log")
    expected = lookalike_log(good, ca, 6)
    out, err = tmp_path / "watch.out", tmp_path / "watch.err"

    def alerts() -> set[str]:
        return {domain for (domain,) in site.query("SELECT domain FROM watch_lookalikealert")}

    def deep_error() -> str:
        rows = site.query("SELECT last_error FROM watch_logstate WHERE description = 'Deep log'")
        return rows[0][0] if rows else ""

    with deep, good, open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            site.command(
                "watch", "ct", "--log-list", str(write_log_list(tmp_path / "l.json", deep, good)), "--json",
                "--start", "beginning", "--poll-interval", "0.2", "--config", str(brands_file),
            ),
            env=site.env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:
            wait_until(
                lambda: alerts() >= expected and "nested" in deep_error(),
                "the good log's alerts and the deep log's error",
                process=process,
            )
            status = [json.loads(x) for x in site.run("watch", "status", check=True).stdout.splitlines()]
            assert "nested" in {s["description"]: s for s in status}["Deep log"]["last_error"]
            good.add(ca.issue(["twilio-mfa.com"]))
            wait_until(lambda: "twilio-mfa.com" in alerts(), "a new certificate of the good log", process=process)
            deep.faults.nested_json = False
            wait_until(
                lambda: {"twilio-vpn.com", "twilio-helpdesk.com"} <= alerts(),
                "the deep log's certificates once it answers well",
                process=process,
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, err.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert alerts() == expected | {"twilio-mfa.com", "twilio-vpn.com", "twilio-helpdesk.com"}
    printed = err.read_text()
    assert "Deep log: " in printed
    assert "nested" in printed
    assert "Traceback" not in printed
