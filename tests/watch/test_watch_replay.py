"""``--replay FILE|-`` over the real certstream fixtures in ../shared/data/ct, and ``--certstream URL``."""

from __future__ import annotations

import json

import pytest
from ct_logs import CertstreamServer
from watch_support import SHARED_CT

from smishguard.cli import main
from smishguard.watch.models import LogState, LookalikeAlert, Sighting

pytestmark = pytest.mark.django_db

BRANDS = ("--brand", "SMM Cheap=smmcheap.com", "--brand", "K-K=k-k.de")


def fixture_lines() -> tuple[str, str]:
    calidog = json.dumps(json.loads((SHARED_CT / "certstream_example_calidog.json").read_text()))
    lite = json.dumps(json.loads((SHARED_CT / "certstream_example_lite_certstream-server-go.json").read_text()))
    return calidog, lite


def test_replay_of_the_real_certstream_examples(tmp_path, watch):
    calidog, lite = fixture_lines()
    heartbeat = json.dumps({"message_type": "heartbeat", "timestamp": 1659301203.9})
    replay = tmp_path / "updates.jsonl"
    replay.write_text("\n".join([calidog, heartbeat, lite]) + "\n", encoding="utf-8")

    run = watch("--replay", str(replay), "--json", *BRANDS)

    assert run.code == 0, run.err
    # One certificate, one alert (issue 11, item 9): it lists the lookalike names the certificate holds.
    assert [(a["domain"], a["brand"], a["lookalike_names"]) for a in run.lines] == [
        ("access.smm-cheap.com", "SMM Cheap", ["access.smm-cheap.com", "www.access.smm-cheap.com"]),
    ]
    alert = LookalikeAlert.objects.get(domain="access.smm-cheap.com")
    assert alert.log == "Google 'Argon2020' log"
    assert alert.log_url == "ct.googleapis.com/logs/argon2020/"
    assert alert.entry_index == 343999487
    assert alert.issuer == "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US"
    assert alert.not_before.isoformat() == "2020-02-15T03:35:41+00:00"
    assert alert.names == ["access.smm-cheap.com", "www.access.smm-cheap.com"]
    # The lite message (a precert of an official K-K host) was read and raised nothing.
    assert "2 entries, 3 names" in run.err
    assert not LookalikeAlert.objects.filter(registrable="k-k.de").exists()
    # A replay keeps no checkpoint to resume from, but it is recorded for `watch status` (issue 11, item 6).
    replay_state = LogState.objects.get()
    assert (replay_state.api, replay_state.key) == ("replay", f"replay:{replay}")
    assert (replay_state.entries_read, replay_state.alerts_raised, replay_state.next_index) == (2, 1, 3)

    # The same certificates replayed again: no new alert, nothing counted twice.
    again = watch("--replay", str(replay), "--json", *BRANDS)
    assert again.lines == []
    assert LookalikeAlert.objects.get(domain="access.smm-cheap.com").times_seen == 1
    assert Sighting.objects.count() == 1


def test_replay_from_stdin_with_a_bad_line_in_the_middle(watch):
    calidog, lite = fixture_lines()
    other = json.loads(calidog)
    other["data"]["cert_index"] = 7
    other["data"]["leaf_cert"]["all_domains"] = ["smm-cheap.net"]
    stdin = "\n".join([lite, "{not json", json.dumps({"message_type": "certificate_update"}), calidog]) + "\n"
    stdin += json.dumps(other) + "\n"

    run = watch("--replay", "-", "--json", *BRANDS, stdin=stdin)

    assert run.code == 0
    assert [a["domain"] for a in run.lines] == ["access.smm-cheap.com", "smm-cheap.net"]
    assert "line 2 skipped: not JSON" in run.err
    assert "line 3 skipped: certificate_update has no data object" in run.err
    assert "2 bad line(s) skipped, the rest processed" in run.err
    assert "Traceback" not in run.err


def test_replay_of_a_missing_file_is_one_clear_line(tmp_path, watch):
    run = watch("--replay", str(tmp_path / "nope.jsonl"), *BRANDS)
    assert run.code == 2
    assert run.err.strip().splitlines()[-1].startswith("smishguard: error: cannot read")


def test_certstream_websocket(watch):
    calidog, lite = fixture_lines()
    with CertstreamServer([lite, "garbage", calidog]) as server:
        url = server.url
        run = watch("--certstream", url, "--limit", "3", "--json", *BRANDS)
    assert run.code == 0, run.err
    assert [a["domain"] for a in run.lines] == ["access.smm-cheap.com"]
    assert "message 2 skipped: not JSON" in run.err
    state = LogState.objects.get()
    assert (state.api, state.key, state.entries_read) == ("certstream", f"certstream:{url}", 2)
    assert state.alerts_raised == 1
    [row] = watch_status()
    assert (row["api"], row["url"], row["entries_read"], row["alerts_raised"]) == ("certstream", url, 2, 1)
    assert row["last_seen"] is not None


def watch_status() -> list[dict]:
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["watch", "status"]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_watch_status_shows_a_replay_and_says_when_nothing_was_watched(tmp_path, watch, capsys):
    assert watch_status() == []
    assert "nothing watched yet" in capsys.readouterr().err
    calidog, lite = fixture_lines()
    replay = tmp_path / "updates.jsonl"
    replay.write_text("\n".join([calidog, "{not json", lite]) + "\n", encoding="utf-8")
    assert watch("--replay", str(replay), *BRANDS).code == 0
    [row] = watch_status()
    # the forms of a log's row stay; the source's kind, name, what was read and when are added
    assert row["api"] == "replay"
    assert row["key"] == f"replay:{replay}"
    assert row["url"] == str(replay)
    assert row["description"] == f"replay {replay}"
    assert (row["next_index"], row["entries_read"], row["alerts_raised"]) == (3, 2, 1)
    assert row["last_error"] == "1 bad line(s) skipped"
    assert row["last_seen"] is not None
    kept = {"key", "description", "url", "api", "next_index", "tree_size", "lag", "tree_head_at", "last_error"}
    assert kept <= set(row)


def test_one_alert_per_certificate_and_a_later_certificate_joins_it(tmp_path, watch):
    """Issue 11, item 9: a certificate for a domain and its www. raised two alerts; now one, listing both."""
    calidog, _ = fixture_lines()
    message = json.loads(calidog)
    message["data"]["leaf_cert"]["all_domains"] = ["smm-cheap.net", "www.smm-cheap.net", "mail.smm-cheap.net"]
    later = json.loads(calidog)
    later["data"]["cert_index"] = 8
    later["data"]["leaf_cert"]["all_domains"] = ["www.smm-cheap.net", "shop.smm-cheap.net"]
    other = json.loads(calidog)
    other["data"]["cert_index"] = 9
    other["data"]["leaf_cert"]["all_domains"] = ["pay.smm-cheap.net"]  # no name in common: its own alert
    replay = tmp_path / "updates.jsonl"
    replay.write_text("\n".join(json.dumps(m) for m in (message, later, other)) + "\n", encoding="utf-8")

    run = watch("--replay", str(replay), "--json", *BRANDS)

    assert run.code == 0, run.err
    line, last = run.lines
    assert (last["domain"], last["lookalike_names"]) == ("pay.smm-cheap.net", ["pay.smm-cheap.net"])
    assert line["domain"] == "smm-cheap.net"
    assert line["lookalike_names"] == ["smm-cheap.net", "www.smm-cheap.net", "mail.smm-cheap.net"]
    assert line["names"] == ["smm-cheap.net", "www.smm-cheap.net", "mail.smm-cheap.net"]  # the key stays
    assert "2 new alert(s)" in run.err
    alert = LookalikeAlert.objects.get(domain="smm-cheap.net")
    assert alert.times_seen == 2  # the later certificate (www. again) is a sighting of the same alert
    assert alert.lookalike_names == ["smm-cheap.net", "www.smm-cheap.net", "mail.smm-cheap.net", "shop.smm-cheap.net"]
    assert Sighting.objects.count() == 3


def test_the_alert_page_and_the_cli_list_the_lookalike_names(tmp_path, watch, client):
    from django.conf import settings

    from smishguard.accounts import services, sessions

    calidog, _ = fixture_lines()
    message = json.loads(calidog)
    message["data"]["leaf_cert"]["all_domains"] = ["smm-cheap.net", "www.smm-cheap.net"]
    replay = tmp_path / "updates.jsonl"
    replay.write_text(json.dumps(message) + "\n", encoding="utf-8")

    run = watch("--replay", str(replay), *BRANDS)

    alert = LookalikeAlert.objects.get()
    assert f"new alert {alert.pk}: smm-cheap.net looks like SMM Cheap: smm-cheap.net, www.smm-cheap.net" in run.err
    admin = services.add_employee(email="sec@example.com", name="Sec", is_admin=True)
    token, _ = sessions.create(admin, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    for path in (f"/console/watch/alerts/{alert.pk}", "/console/watch/"):
        body = client.get(path).content.decode()
        assert "www.smm-cheap.net" in body, path
