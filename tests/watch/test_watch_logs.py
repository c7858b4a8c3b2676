"""``smishguard watch ct`` against the test RFC 6962 and static-CT logs, in this process."""

from __future__ import annotations

import pytest
from ct_logs import RFC6962Log
from watch_support import EXPECTED, fill, write_log_list

from smishguard.audit.models import Event
from smishguard.watch.models import LogState, LookalikeAlert, Sighting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("which", ["rfc_log", "static_log"])
def test_once_json_alerts_exactly_the_lookalikes(request, which, tmp_path, brands_file, watch):
    log = request.getfixturevalue(which)
    log_list = write_log_list(tmp_path / "log_list.json", log)

    run = watch("--log-list", str(log_list), "--once", "--json", "--start", "beginning", "--config", str(brands_file))

    assert run.code == 0, run.err
    lines = run.lines
    assert {a["domain"]: (a["brand"], a["entry_index"]) for a in lines} == EXPECTED
    assert len(lines) == len(EXPECTED)  # each once
    for a in lines:
        assert a["log"] == log.description
        assert a["issuer"] == "CN=smishguard Test CA,O=smishguard tests,C=US"
        assert a["not_before"] == "2026-03-01T12:00:00+00:00"
        assert a["status"] == "open"
        assert a["times_seen"] == 1
        assert a["techniques"]
        assert a["matcher"] == "2"  # the rules' version, so the alert can be traced when they change
        assert any(a["brand"] in reason for reason in a["reasons"])
    okta = next(a for a in lines if a["domain"] == "twilio-okta.com")
    assert okta["entry_kind"] == "precert"
    assert okta["names"] == ["twilio-okta.com", "www.twilio-okta.com"]
    # One alert per certificate: the bare domain and www. are the same alert, which lists both.
    assert okta["lookalike_names"] == ["twilio-okta.com", "www.twilio-okta.com"]
    assert not LookalikeAlert.objects.filter(domain="www.twilio-okta.com").exists()
    # Official names (twilio.com, sso.acme-corp.com) and unrelated ones raised nothing.
    assert not LookalikeAlert.objects.filter(registrable__in=["twilio.com", "acme-corp.com", "example.org"]).exists()
    state = LogState.objects.get()
    assert (state.next_index, state.tree_size, state.api) == (8, 8, log.log_info().api)
    assert state.entries_read == 8
    assert state.alerts_raised == len(EXPECTED)
    assert state.last_error == ""
    assert "8 entries" in run.err
    assert f"{len(EXPECTED)} new alert(s)" in run.err


def test_resume_from_checkpoint_and_same_domain_updates_one_alert(rfc_log, tmp_path, brands_file, watch, ca):
    log_list = write_log_list(tmp_path / "log_list.json", rfc_log)
    args = ("--log-list", str(log_list), "--once", "--json", "--config", str(brands_file))
    first = watch(*args, "--start", "beginning")
    assert first.code == 0
    assert len(first.lines) == len(EXPECTED)
    before = LookalikeAlert.objects.get(domain="twilio-sso.com")

    # Nothing new: nothing read, nothing printed, nothing counted twice.
    again = watch(*args)
    assert again.code == 0
    assert again.lines == []
    assert LookalikeAlert.objects.get(domain="twilio-sso.com").times_seen == 1

    # A later certificate for the same domain, and one for a new domain.
    rfc_log.add(ca.issue(["twilio-sso.com", "login.twilio-sso.com"]))
    rfc_log.add(ca.issue(["twilio-vpn.com"], precert=True))
    third = watch(*args)
    assert third.code == 0, third.err
    # login.twilio-sso.com came in the same certificate as twilio-sso.com: it joins that alert (issue 11, item 9)
    assert sorted(a["domain"] for a in third.lines) == ["twilio-vpn.com"]
    after = LookalikeAlert.objects.get(domain="twilio-sso.com")
    assert after.lookalike_names == ["twilio-sso.com", "login.twilio-sso.com"]
    assert after.pk == before.pk
    assert after.times_seen == 2
    assert after.last_seen > before.last_seen
    assert after.first_seen == before.first_seen
    assert after.entry_index == 1  # the first certificate stays the alert's
    assert list(Sighting.objects.filter(alert=after).values_list("entry_index", flat=True)) == [1, 8]
    assert LookalikeAlert.objects.filter(domain="twilio-sso.com").count() == 1
    assert LogState.objects.get().next_index == 10


def test_new_log_starts_at_its_tree_head_by_default(rfc_log, tmp_path, brands_file, watch, ca):
    log_list = write_log_list(tmp_path / "log_list.json", rfc_log)
    args = ("--log-list", str(log_list), "--once", "--json", "--config", str(brands_file))
    first = watch(*args)
    assert first.code == 0
    assert first.lines == []
    assert "starting at its tree head (8)" in first.err
    assert LogState.objects.get().next_index == 8
    rfc_log.add(ca.issue(["twilio-mfa.com"]))
    second = watch(*args)
    assert [a["domain"] for a in second.lines] == ["twilio-mfa.com"]


def test_tree_head_with_bad_signature_is_refused_and_position_kept(rfc_log, tmp_path, brands_file, watch, ca):
    log_list = write_log_list(tmp_path / "log_list.json", rfc_log)
    args = ("--log-list", str(log_list), "--once", "--json", "--config", str(brands_file))
    assert watch(*args, "--start", "beginning").code == 0
    rfc_log.add(ca.issue(["twilio-reset.com"]))
    rfc_log.faults.bad_signature = True

    run = watch(*args)

    assert run.code == 1
    assert run.lines == []
    assert "tree head refused" in run.err
    assert "Test RFC 6962 log" in run.err
    state = LogState.objects.get()
    assert (state.next_index, state.tree_size) == (8, 8)  # stayed at the last verified head
    assert state.last_error.startswith("tree head refused")
    assert not LookalikeAlert.objects.filter(domain="twilio-reset.com").exists()
    event = Event.objects.get(action="watch:tree_head:refused")
    assert event.subject_label == "Test RFC 6962 log"
    assert event.detail["position"] == 8
    # Refused again: noted again on the state, not audited again.
    assert watch(*args).code == 1
    assert Event.objects.filter(action="watch:tree_head:refused").count() == 1

    rfc_log.faults.bad_signature = False
    fixed = watch(*args)
    assert fixed.code == 0
    assert [a["domain"] for a in fixed.lines] == ["twilio-reset.com"]
    state.refresh_from_db()
    assert (state.next_index, state.last_error) == (9, "")


def test_a_tree_head_smaller_than_the_verified_one_is_refused(rfc_log, tmp_path, brands_file, watch, ca):
    log_list = write_log_list(tmp_path / "log_list.json", rfc_log)
    args = ("--log-list", str(log_list), "--once", "--json", "--config", str(brands_file))
    assert watch(*args, "--start", "beginning").code == 0
    rfc_log.add(ca.issue(["twilio-reset.com"]))
    rfc_log.published_size = 5  # a well-signed head of a tree that shrank from the 8 entries verified before

    run = watch(*args)

    assert run.code == 1
    assert "smaller than the verified 8" in run.err
    state = LogState.objects.get()
    assert (state.next_index, state.tree_size) == (8, 8)
    assert Event.objects.filter(action="watch:tree_head:refused").count() == 1


def test_bad_signature_on_a_new_log_reads_nothing(ca, tmp_path, brands_file, watch):
    log = RFC6962Log(ca, description="Bad log")
    log.add(ca.issue(["twilio-sso.com"]))
    log.faults.bad_signature = True
    with log:
        run = watch(
            "--log-list", str(write_log_list(tmp_path / "l.json", log)), "--once", "--start", "beginning",
            "--config", str(brands_file),
        )  # fmt: skip
    assert run.code == 1
    assert "tree head refused" in run.err
    assert LogState.objects.get().next_index == 0
    assert not LookalikeAlert.objects.exists()


@pytest.mark.parametrize("which", ["rfc_log", "static_log"])
def test_429_and_5xx_are_retried(request, which, tmp_path, brands_file, watch):
    log = request.getfixturevalue(which)
    log.faults.queue = [(429, "0"), (500, None), (503, "0"), (429, "0")]
    run = watch(
        "--log-list", str(write_log_list(tmp_path / "l.json", log)), "--once", "--json", "--start", "beginning",
        "--config", str(brands_file),
    )  # fmt: skip
    assert run.code == 0, run.err
    assert {a["domain"] for a in run.lines} == set(EXPECTED)
    assert log.faults.queue == []  # every failure was answered, and retried past
    # The failed requests were repeated: the first four requests were all the first tree head.
    first = log.requests[0]
    assert log.requests[:5] == [first] * 5


def test_a_log_that_keeps_failing_is_reported_not_fatal_to_the_rest(ca, rfc_log, tmp_path, brands_file, watch):
    rfc_log.faults.queue = [(404, None)]
    run = watch(
        "--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--start", "beginning",
        "--config", str(brands_file),
    )  # fmt: skip
    assert run.code == 1
    assert "HTTP 404" in run.err
    assert "1 of 1 log(s) failed" in run.err
    assert "Traceback" not in run.err
    assert "HTTP 404" in LogState.objects.get().last_error


def test_a_single_log_answering_deeply_nested_json_is_one_clear_failure(ca, tmp_path, brands_file, watch):
    # Issue 10, item 12: JSON nested 100,000 deep is the log's recorded error, not a RecursionError.  (Several logs
    # run on threads, which the in-memory test database cannot serve: test_watch_process.py has that case.)
    deep = RFC6962Log(ca, description="Deep log")
    fill(deep, ca)
    deep.faults.nested_json = True
    with deep:
        run = watch(
            "--log-list", str(write_log_list(tmp_path / "l.json", deep)), "--once", "--start", "beginning",
            "--config", str(brands_file),
        )  # fmt: skip
    assert run.code == 1
    assert "1 of 1 log(s) failed" in run.err
    assert "Traceback" not in run.err
    assert "nested" in LogState.objects.get().last_error


def test_batch_size_follows_what_the_log_returns(rfc_log, tmp_path, brands_file, watch, ca):
    for n in range(12):
        rfc_log.add(ca.issue([f"host{n}.example.org"]))
    rfc_log.faults.max_batch = 3
    run = watch(
        "--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--json", "--start", "beginning",
        "--batch-size", "100", "--config", str(brands_file),
    )  # fmt: skip
    assert run.code == 0
    assert {a["domain"] for a in run.lines} == set(EXPECTED)
    asks = [p.split("?", 1)[1] for p in rfc_log.requests if "get-entries" in p]
    # The first ask is for all 20 (under 100); the log gives 3; from then on the watcher asks for 3.
    assert asks == ["start=0&end=19", *(f"start={i}&end={min(i + 2, 19)}" for i in range(3, 20, 3))]
    assert LogState.objects.get().next_index == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to watch"),
        (("--log-list", "/nonexistent/list.json"), "cannot read log list"),
        (("--certstream", "ws://127.0.0.1:9/", "--once"), "--once does not apply to --certstream"),
        (("--certstream", "http://x/"), "must start with ws:// or wss://"),
        (("--replay", "-", "--batch-size", "0"), "batch_size must be"),
        (("--replay", "-", "--webhook", "ftp://x"), "webhook must be an http(s) URL"),
        (("--replay", "-", "--config", "/nonexistent.toml"), "cannot read the file"),
    ],
)
def test_bad_usage_is_one_clear_line(watch, args, message):
    result = watch(*args, stdin="")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("smishguard: error: ")
    assert message in lines[0]


def test_the_real_get_sth_with_a_fake_signature_is_refused(tmp_path, brands_file, watch):
    """certificate-transparency-go's 4-entry STH (signature well-formed, not valid) over its real entries."""
    import base64
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ct_logs import LogKey, log_list
    from watch_support import SHARED_CT

    sth = (SHARED_CT / "ctgo_scanner_get-sth_4_fake-sig.json").read_bytes()
    entries = (SHARED_CT / "ctgo_scanner_get-entries_4.json").read_bytes()
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            del args

        def do_GET(self) -> None:
            served.append(self.path)
            body = sth if self.path.endswith("get-sth") else entries
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    key = LogKey()
    document = log_list()
    document["operators"][0]["logs"] = [
        {
            "description": "ct-go scanner fixture",
            "log_id": base64.b64encode(key.log_id).decode(),
            "key": base64.b64encode(key.spki).decode(),
            "url": f"http://127.0.0.1:{server.server_address[1]}/",
            "state": {"usable": {}},
        }
    ]
    path = tmp_path / "l.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        run = watch("--log-list", str(path), "--once", "--start", "beginning", "--config", str(brands_file))
    finally:
        server.shutdown()
        server.server_close()
    assert run.code == 1
    assert "tree head refused" in run.err
    assert served == ["/ct/v1/get-sth"]  # not one entry read under a tree head that did not verify
    state = LogState.objects.get()
    assert (state.next_index, state.tree_size) == (0, None)
    assert Event.objects.filter(action="watch:tree_head:refused", subject_label="ct-go scanner fixture").exists()


def test_brands_from_the_database_when_no_config_is_given(rfc_log, tmp_path, watch):
    from smishguard.detection.services import save_brand

    save_brand(name="Acme", domains=["acme-corp.com"], tokens=["acme"])
    log_list = write_log_list(tmp_path / "l.json", rfc_log)
    run = watch("--log-list", str(log_list), "--once", "--json", "--start", "beginning")
    assert run.code == 0, run.err
    assert [(a["domain"], a["brand"]) for a in run.lines] == [("acme-login.com", "Acme")]


def test_no_brands_at_all_is_warned_about(rfc_log, tmp_path, watch):
    run = watch("--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--start", "beginning")
    assert run.code == 0
    assert "warning: no protected brands" in run.err
    assert not LookalikeAlert.objects.exists()
