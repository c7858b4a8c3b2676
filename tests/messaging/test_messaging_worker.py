"""The real worker (`smishguard worker`) as a subprocess on a file SQLite database, against the fake Twilio.

THE CRASH TEST: the worker dies (os._exit, as kill -9) right after Twilio accepted a send and before the send
is marked; restarted, it reconciles that send with Twilio's list and finishes the rest: every employee gets
exactly one warning.  Also: two workers side by side share the per-number rate limit, and the status
callbacks reach the web app (gunicorn) signed and are recorded.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import modes
import pytest
from fake_twilio import FakeTwilio
from servers import VENV_BIN, clean_env, django_eval, free_port, gunicorn, smishguard
from waiting import wait_until

pytestmark = pytest.mark.integration

SENDER = "+15005550006"
WARNING = "Warning: texts from 'IT' linking to twilio-okta.com are phishing. Do not open the link."


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated database, made once; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("migrated") / "var"
    smishguard(clean_env(folder), "migrate")
    return folder


@pytest.fixture
def twilio_server():
    server = FakeTwilio(numbers=(SENDER,)).start()
    try:
        yield server
    finally:
        server.stop()


def environment(tmp_path: Path, fake: FakeTwilio, migrated: Path, **extra: str) -> dict[str, str]:
    shutil.copytree(migrated, tmp_path / "var")
    modes.copy_database(migrated, tmp_path / "var")
    values = {
        "SMISHGUARD_TWILIO_ACCOUNT_SID": fake.account_sid,
        "SMISHGUARD_TWILIO_AUTH_TOKEN": fake.auth_token,
        "SMISHGUARD_TWILIO_FROM": SENDER,
        "SMISHGUARD_TWILIO_API_BASE": fake.url,
        "SMISHGUARD_TWILIO_TIMEOUT": "1",
        "SMISHGUARD_TWILIO_SEND_LEASE_SECONDS": "1.5",
        "SMISHGUARD_TWILIO_RATE_PER_SECOND": "100",
    }
    return clean_env(tmp_path / "var", **{**values, **extra})


def seed(env: dict[str, str], count: int) -> list[str]:
    """Add ``count`` employees and broadcast the warning to them; returns their phone numbers."""
    out = django_eval(
        env,
        f"""
import json
from smishguard.accounts import services
from smishguard.accounts.models import Employee
from smishguard.messaging.broadcast import broadcast
for n in range({count}):
    services.add_employee(email=f"p{{n}}@example.com", name=f"P {{n}}", phone=f"+4477009{{n:05d}}")
broadcast(Employee.objects.all(), {WARNING!r}, purpose="warning", batch_key="crash-test")
print(json.dumps(sorted(Employee.objects.values_list("phone", flat=True))))
""",
    )
    return json.loads(out)


def state(env: dict[str, str]) -> list[dict[str, object]]:
    out = django_eval(
        env,
        """
import json
from smishguard.messaging.models import OutboundMessage
print(json.dumps(list(OutboundMessage.objects.order_by("pk").values(
    "to", "status", "provider_sid", "attempts", "delivery_statuses__status"))))
""",
    )
    return json.loads(out)


def worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "smishguard"), "worker", "--interval", "0.05", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_worker_killed_between_the_api_call_and_the_mark_then_restarted(tmp_path, twilio_server, migrated) -> None:
    fake = twilio_server
    env = environment(tmp_path, fake, migrated)
    phones = seed(env, 6)

    crashed = worker({**env, "SMISHGUARD_TEST_CRASH_AFTER_SEND": "3"}, "--timeout", "30")
    assert crashed.returncode == 137, crashed.stderr
    assert len(fake.messages) == 3  # Twilio accepted three ...
    rows = state(env)
    assert sorted(r["status"] for r in rows) == ["queued"] * 3 + ["sending"] + ["sent"] * 2  # ... we marked two
    [in_doubt] = [r for r in rows if r["status"] == "sending"]
    assert in_doubt["provider_sid"] is None

    restarted = worker(env, "--until-idle", "--timeout", "30", "--json")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout.strip().splitlines()[-1])["messages_unfinished"] == 0
    for phone in phones:
        assert len(fake.sent_to(phone)) == 1, phone  # every employee exactly one warning
    assert len(fake.messages) == 6
    rows = state(env)
    assert {r["status"] for r in rows} == {"sent"}
    assert {r["provider_sid"] for r in rows} == {m["sid"] for m in fake.messages}
    # The in-doubt send was reconciled (found at Twilio), not sent again.
    [reconciled] = [r for r in rows if r["to"] == in_doubt["to"]]
    assert reconciled["attempts"] == 1
    assert reconciled["provider_sid"] == fake.sent_to(in_doubt["to"])[0]["sid"]


def test_two_workers_share_the_rate_limit_and_send_each_message_once(tmp_path, twilio_server, migrated) -> None:
    fake = twilio_server
    env = environment(tmp_path, fake, migrated, SMISHGUARD_TWILIO_RATE_PER_SECOND="5")
    phones = seed(env, 8)
    command = [str(VENV_BIN / "smishguard"), "worker", "--interval", "0.05", "--until-idle", "--timeout", "30"]
    workers = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in workers:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    assert sorted(m["to"] for m in fake.messages) == phones
    # 5 per second for the one number across both processes, checked on what was recorded, not on a clock of
    # ours: the slots the two processes reserved (attempted_at) are 0.2 s or more apart, whichever process took
    # them, and each send reached Twilio from that number no earlier than its slot.
    rows = json.loads(
        django_eval(
            env,
            """
import json
from smishguard.messaging.models import OutboundMessage
rows = OutboundMessage.objects.order_by("attempted_at")
print(json.dumps([(m.to, m.sender, m.attempted_at.isoformat()) for m in rows]))
""",
        )
    )
    slots = [datetime.fromisoformat(at) for _, _, at in rows]
    assert len(slots) == 8
    assert min(b - a for a, b in itertools.pairwise(slots)) >= timedelta(seconds=0.2), slots
    sent = {m["to"]: m for m in fake.messages}
    for to, sender, at in rows:
        assert sent[to]["from"] == sender == SENDER
        assert sent[to]["date_created"] >= datetime.fromisoformat(at)


def test_status_callbacks_and_inbound_texts_through_gunicorn(tmp_path, twilio_server, migrated) -> None:
    fake = twilio_server
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, fake, migrated, SMISHGUARD_PUBLIC_URL=public)
    phones = seed(env, 3)
    with gunicorn(env, workers=1, log_dir=tmp_path, port=port):
        done = worker(env, "--until-idle", "--timeout", "30")
        assert done.returncode == 0, done.stderr
        wait_until(lambda: len(fake.callbacks) >= 6, "the six status callbacks")
        assert sorted(c.params["MessageStatus"] for c in fake.callbacks) == ["delivered"] * 3 + ["sent"] * 3
        assert {c.status_code for c in fake.callbacks} == {204}
        rows = state(env)
        assert {r["status"] for r in rows} == {"delivered"}
        assert sorted(r["delivery_statuses__status"] for r in rows) == ["delivered"] * 3 + ["sent"] * 3

        inbound = {"MessageSid": "SM" + "c" * 32, "From": phones[0], "To": SENDER, "Body": "Is this real?"}
        answer = fake.post_signed(f"{public}/hooks/twilio/sms", inbound)
        assert answer.status_code == 200
        refused = fake.post_signed(f"{public}/hooks/twilio/sms", inbound, signature="forged")
        assert refused.status_code == 403


def test_until_idle_says_how_many_tasks_it_ran(tmp_path, twilio_server, migrated) -> None:
    """Not silent (issue 11, item 6): an idle queue is said, and so is the work done."""
    env = environment(tmp_path, twilio_server, migrated)
    idle = worker(env, "--until-idle", "--timeout", "30")
    assert (idle.returncode, idle.stdout) == (0, "no tasks waiting\n"), idle.stderr
    seed(env, 2)
    done = worker(env, "--until-idle", "--timeout", "30")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    words = line.split()
    assert (words[0], words[2]) == ("ran", "tasks"), line
    assert int(words[1]) >= 2  # a send to each employee
    again = worker(env, "--until-idle", "--timeout", "30", "--json")  # the JSON form stays as it was
    assert json.loads(again.stdout) == {"tasks_run": 0, "messages_unfinished": 0}
