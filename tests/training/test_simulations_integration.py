"""A simulation end to end with real processes: `smishguard simulations create/launch` on the command line, the real
worker (`smishguard worker`) sending through the official twilio SDK to the Twilio-compatible server on
127.0.0.1, and Twilio's signed status callbacks reaching the web app (gunicorn), which marks each recipient
delivered; the results then say so."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fake_twilio import FakeTwilio
from servers import VENV_BIN, clean_env, django_eval, free_port, gunicorn, smishguard
from waiting import wait_until

pytestmark = pytest.mark.integration

REPORTING = "+15005550006"
DRILLS = "+15005550007"


@pytest.fixture
def twilio_server():
    server = FakeTwilio(numbers=(REPORTING, DRILLS)).start()
    try:
        yield server
    finally:
        server.stop()


def test_sends_and_status_callbacks_through_the_worker_and_gunicorn(tmp_path: Path, twilio_server) -> None:
    fake = twilio_server
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = tmp_path / "smishguard.toml"
    config.write_text(f'[training]\nsimulation_sender = "{DRILLS}"\ncompany = "Acme"\n', encoding="utf-8")
    folder = tmp_path / "var"
    env = clean_env(
        folder,
        SMISHGUARD_CONFIG=str(config),
        SMISHGUARD_TWILIO_ACCOUNT_SID=fake.account_sid,
        SMISHGUARD_TWILIO_AUTH_TOKEN=fake.auth_token,
        SMISHGUARD_TWILIO_FROM=REPORTING,
        SMISHGUARD_TWILIO_API_BASE=fake.url,
        SMISHGUARD_TWILIO_TIMEOUT="2",
        SMISHGUARD_TWILIO_RATE_PER_SECOND="100",
        SMISHGUARD_PUBLIC_URL=public,
    )
    smishguard(env, "migrate")
    django_eval(
        env,
        """
from smishguard.accounts import services
for n in range(3):
    services.add_employee(email=f"p{n}@example.com", name=f"Pat{n} P", phone=f"+4477009{n:05d}",
                          groups=["sales", "simulations"])
""",
    )
    template = tmp_path / "drill.txt"
    template.write_text("Hi {first_name}, {company} IT: confirm your login {link}", encoding="utf-8")
    created = json.loads(
        smishguard(
            env, "simulations", "create", "Login", "--template", str(template), "--group", "sales", "--json"
        ).stdout
    )
    sim_id = str(created["id"])
    assert (
        smishguard(env, "simulations", "launch", sim_id).stdout.strip()
        == f"simulation {sim_id} launched to 3 recipient(s)"
    )

    with gunicorn(env, workers=1, log_dir=tmp_path, port=port):
        done = subprocess.run(
            [str(VENV_BIN / "smishguard"), "worker", "--interval", "0.05", "--until-idle", "--timeout", "30"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        wait_until(lambda: len(fake.callbacks) >= 6, timeout=30, what="the six status callbacks")
        assert {c.status_code for c in fake.callbacks} == {204}

    assert {m["from"] for m in fake.messages} == {DRILLS}
    assert len(fake.messages) == 3
    results = json.loads(smishguard(env, "simulations", "results", sim_id, "--json").stdout)
    assert results["status"] == "finished"
    assert [(r["sent"] is not None, r["delivered"] is not None) for r in results["recipients"]] == [(True, True)] * 3
    assert (results["funnel"]["sent"], results["funnel"]["delivered"]) == (3, 3)
    links = smishguard(env, "simulations", "links", sim_id).stdout.splitlines()
    bodies = {str(m["body"]) for m in fake.messages}
    assert {line.split("\t")[1] for line in links} == {body.rsplit(" ", 1)[1] for body in bodies}
