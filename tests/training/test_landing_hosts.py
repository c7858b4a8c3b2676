"""The simulation host, when it is not the origin's: settings.ALLOWED_HOSTS accepts it, and on it only /s/...
and the static files answer — the console, the API, the sign-in pages, the health checks and the gateway's checks
are a plain 404 there.  The origin's host is unchanged (it serves the tracked links too)."""

from __future__ import annotations

import dataclasses
import http.client

import pytest
from django.test import Client
from landing_fixtures import BROWSERS, make_recipient
from servers import clean_env, django_eval, free_port, gunicorn, smishguard

from smishguard.training import landing_hosts

IPHONE = BROWSERS["Safari on iPhone"]
SIM_HOST = "acme-signin-check.com"
ORIGIN_PATHS = ("/", "/console/", "/portal/", "/signin", "/api/me", "/api/authz/nginx", "/healthz", "/metrics", "/x")


@pytest.fixture
def drill_host(settings):
    smishguard = settings.SMISHGUARD
    settings.SMISHGUARD = dataclasses.replace(
        smishguard, training=dataclasses.replace(smishguard.training, simulation_host=SIM_HOST)
    )
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, SIM_HOST]
    return SIM_HOST


@pytest.mark.django_db
def test_on_the_simulation_host_only_the_links_and_static_files_answer(drill_host) -> None:
    recipient = make_recipient()
    browser = Client(HTTP_HOST=drill_host, HTTP_USER_AGENT=IPHONE)  # a new client: the middleware reads settings
    assert browser.get(f"/s/{recipient.rid}").status_code == 200
    assert browser.get(f"/s/{recipient.rid}/lesson").status_code == 200
    assert browser.post(f"/s/{recipient.rid}").status_code == 303
    assert browser.get("/static/training/landing.css").status_code == 200
    for path in ORIGIN_PATHS:
        response = browser.get(path)
        assert response.status_code == 404, path
        assert response.content == b"Not found\n", path
    assert browser.post("/api/webauthn/login/options", data="{}", content_type="application/json").status_code == 404
    # The origin's host is as it was, and carries the tracked links too.
    origin = Client(HTTP_USER_AGENT=IPHONE)
    assert origin.get("/healthz").status_code == 200
    assert origin.get("/signin").status_code == 200
    assert origin.get(f"/s/{recipient.rid}").status_code == 200


def test_the_simulation_host_is_the_origins_when_unset_or_the_same(settings) -> None:
    smishguard = settings.SMISHGUARD

    def host(value: str, origin: str = "https://sg.example.com"):
        training = dataclasses.replace(smishguard.training, simulation_host=value)
        settings.SMISHGUARD = dataclasses.replace(smishguard, origin=origin, training=training)
        return landing_hosts.simulation_host()

    assert host("") is None
    assert host("sg.example.com") is None
    assert host("sg.example.com:443") is None
    assert host("SG.example.com:8443") == ("sg.example.com", 8443)
    assert host("drill.example.net") == ("drill.example.net", None)


def get(port: int, host: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": host, "User-Agent": IPHONE})
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_real_server_accepts_the_simulation_host_and_serves_it_only_the_links(tmp_path) -> None:
    port = free_port()
    config = tmp_path / "smishguard.toml"
    config.write_text(f'[training]\nsimulation_host = "{SIM_HOST}"\n', encoding="utf-8")
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_ORIGIN=f"http://localhost:{port}",
        SMISHGUARD_ALLOWED_HOSTS="localhost,127.0.0.1",
        SMISHGUARD_CONFIG=str(config),
    )
    smishguard(env, "migrate")
    allowed = django_eval(env, "from django.conf import settings\nprint(','.join(settings.ALLOWED_HOSTS))").strip()
    assert allowed == f"localhost,127.0.0.1,{SIM_HOST}"
    rid = "hostTestDrillLink0000000001"
    django_eval(
        env,
        "from smishguard.accounts import services\nfrom smishguard.accounts.models import Group\n"
        "from smishguard.training.models import Recipient, Simulation\n"
        "p = services.add_employee(email='carl@example.com', name='Carl', groups=['simulations'])\n"
        "s = Simulation.objects.create(name='d', template='{link}', group=Group.objects.get(name='simulations'),"
        " created_by='t')\n"
        f"Recipient.objects.create(simulation=s, employee=p, rid={rid!r})\n",
    )
    with gunicorn(env, workers=1, log_dir=tmp_path, port=port):
        assert get(port, SIM_HOST, f"/s/{rid}") == 200
        assert get(port, f"{SIM_HOST}:{port}", f"/s/{rid}/lesson") == 200
        assert get(port, SIM_HOST, "/static/training/landing.css") == 200
        for path in ("/", "/console/", "/signin", "/api/me", "/healthz"):
            assert get(port, SIM_HOST, path) == 404, path
        assert get(port, f"localhost:{port}", "/healthz") == 200
        assert get(port, f"localhost:{port}", f"/s/{rid}") == 200
