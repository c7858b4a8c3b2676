"""GET /metrics: the bearer token (none configured: 404; wrong or missing: 401, audited once per source and
window, limited per address), and each metric changing after the event that should change it."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from servers import VENV_BIN, clean_env, free_port, smishguard, stop, wait_for
from waiting import wait_until

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.config import RateLimits

TOKEN = "m3tr1cs-t0ken-for-the-tests-0123456789abcdef"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scrape's samples: (name, sorted labels) -> value."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grown(before, after, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_without_a_token_configured_metrics_does_not_exist(db, settings):
    settings.METRICS_TOKEN = None
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("Bearer not-the-token", "wrong"),
        (f"Basic {TOKEN}", "missing"),
        (f"Bearer {TOKEN}x", "wrong"),
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_401_and_audited(db, metrics_token, header, reason):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"smishguard_" not in response.content
    [event] = Event.objects.filter(action=Action.METRICS_TOKEN_REFUSED.value)
    assert event.detail["reason"] == reason
    assert TOKEN not in str(event.detail)


def test_repeated_refusals_are_audited_once_per_window_and_then_limited(db, metrics_token, settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(api_address="3/m"))
    statuses = [Client().get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    assert Event.objects.filter(action=Action.METRICS_TOKEN_REFUSED.value).count() == 1
    refused = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer guess")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    # Failures are counted after they fail (as login/verify's): a good scrape is neither counted nor held back.
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_right_token_gets_the_metrics_and_only_get_is_answered(db, metrics_token):
    samples = scrape()
    assert any(name == "smishguard_collector_up" for name, _ in samples)
    assert value(samples, "smishguard_collector_up", collector="outbox") == 1
    assert value(samples, "smishguard_collector_up", collector="watch") == 1
    response = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
    assert not Event.objects.filter(action=Action.METRICS_TOKEN_REFUSED.value).exists()


def test_requests_are_counted_by_method_route_group_and_status_class(db, metrics_token):
    before = scrape()
    for _ in range(3):
        assert Client().get("/api/me").status_code == 401
    assert Client().get("/healthz").status_code == 200
    after = scrape()
    api = {"method": "GET", "route": "api", "status": "4xx"}
    assert (
        value(after, "smishguard_http_requests_total", **api) - value(before, "smishguard_http_requests_total", **api)
        == 3
    )
    health = {"method": "GET", "route": "health", "status": "2xx"}
    assert value(after, "smishguard_http_requests_total", **health) > value(
        before, "smishguard_http_requests_total", **health
    )
    # the scrape itself counts too, under its own route group
    assert value(after, "smishguard_http_requests_total", method="GET", route="metrics", status="2xx") >= 1


def test_refusals_are_counted_by_reason(db, metrics_token, settings):
    before = scrape()
    assert Client().get("/api/me").status_code == 401  # the JSON error's code
    csrf = Client(enforce_csrf_checks=True).post("/portal/report", {"text": "x"})
    assert csrf.status_code == 403
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(api_address="1/m"))
    Client().get("/api/blocklists/rpz")
    assert Client().get("/api/blocklists/rpz").status_code == 429
    assert Client().get("/no/such/page").status_code == 404  # not a refusal
    after = scrape()

    def grew(reason: str) -> float:
        return grown(before, after, "smishguard_refusals_total", reason=reason)

    assert grew("not_authenticated") >= 1
    assert grew("csrf") == 1
    assert grew("rate_limited") == 1
    assert not any(labels == (("reason", "not_found"),) for _, labels in after)


def test_queue_depth_counts_the_tasks_ready_waiting_and_running(db, metrics_token):
    from django_tasks_db.models import DBTaskResult, get_date_max

    before = scrape()
    now = timezone.now()
    common = {"task_path": "smishguard.outbox.queue.attempt", "args_kwargs": {"args": [], "kwargs": {}}}
    DBTaskResult.objects.create(**common, run_after=get_date_max())
    DBTaskResult.objects.create(**common, run_after=now + timedelta(hours=1))
    DBTaskResult.objects.create(**common, run_after=get_date_max(), status="RUNNING")
    after = scrape()
    for state in ("ready", "waiting", "running"):
        grown = value(after, "smishguard_queue_tasks", state=state) - value(
            before, "smishguard_queue_tasks", state=state
        )
        assert grown == 1, state


def test_send_failures_are_the_outbox_deliveries_that_failed_by_kind(db, metrics_token):
    from smishguard.outbox.models import Delivery

    Delivery.objects.create(kind="sms", key="k1", status=Delivery.Status.FAILED, attempts=3, last_error="HTTP 500")
    Delivery.objects.create(kind="sms", key="k2", status=Delivery.Status.PENDING, attempts=1)
    Delivery.objects.create(kind="sms", key="k3", status=Delivery.Status.DELIVERED, attempts=1)
    samples = scrape()
    assert value(samples, "smishguard_outbox_deliveries", kind="sms", status="failed") == 1
    assert value(samples, "smishguard_outbox_deliveries", kind="sms", status="delivered") == 1
    assert value(samples, "smishguard_outbox_deliveries", kind="sms", status="sending") == 0
    assert value(samples, "smishguard_outbox_retrying", kind="sms") == 1
    Delivery.objects.filter(key="k2").update(status=Delivery.Status.FAILED)
    assert value(scrape(), "smishguard_outbox_deliveries", kind="sms", status="failed") == 2


def test_ct_lag_is_how_far_behind_and_how_old_each_logs_checkpoint_is(db, metrics_token):
    from smishguard.watch.models import LogState

    now = timezone.now()
    LogState.objects.create(
        key="bG9nLWlk",
        description="Test log 2026",
        api=LogState.Api.RFC6962,
        next_index=40,
        tree_size=100,
        tree_head_at=now - timedelta(hours=2),
        updated_at=now - timedelta(minutes=10),
    )
    LogState.objects.create(key="replay:/tmp/x.jsonl", api=LogState.Api.REPLAY)  # left out
    samples = scrape()
    assert value(samples, "smishguard_ct_entries_behind", log="Test log 2026") == 60
    assert value(samples, "smishguard_ct_checkpoint_age_seconds", log="Test log 2026") >= 600
    assert value(samples, "smishguard_ct_tree_head_age_seconds", log="Test log 2026") >= 7200
    ct_labels = [labels for name, labels in samples if name.startswith("smishguard_ct_")]
    assert ct_labels  # (the check below looks at something)
    assert not any("replay" in str(labels) for labels in ct_labels)  # a replayed file is not a log
    LogState.objects.filter(key="bG9nLWlk").update(next_index=100, updated_at=timezone.now())
    later = scrape()
    assert value(later, "smishguard_ct_entries_behind", log="Test log 2026") == 0
    assert value(later, "smishguard_ct_checkpoint_age_seconds", log="Test log 2026") < 600


def test_a_broken_collector_is_left_out_and_said_so(db, metrics_token):
    from smishguard import metrics

    def broken():
        raise RuntimeError("no")

    metrics.register_collector("test-broken", broken)
    try:
        samples = scrape()
    finally:
        metrics._collectors.pop("test-broken")
    assert value(samples, "smishguard_collector_up", collector="test-broken") == 0
    assert value(samples, "smishguard_collector_up", collector="outbox") == 1


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/api/webauthn/login/verify", "signin"),
        ("/api/webauthn/register/options", "enrolment"),
        ("/enrol/abc", "enrolment"),
        ("/api/scan", "api"),
        ("/hooks/twilio/sms", "webhooks"),
        ("/console/employees", "console"),
        ("/portal/", "portal"),
        ("/static/css/app.css", "static"),
        ("/readyz", "health"),
        ("/metrics", "metrics"),
        ("/metricsX", "pages"),
        ("/wp-login.php", "pages"),
    ],
)
def test_route_groups_are_a_fixed_small_set(path, group):
    from smishguard.metrics import route_group

    assert route_group(path) == group


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback test server
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _api_requests(exposition: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "smishguard_http_requests_total"
        and sample.labels == {"method": "GET", "route": "api", "status": "4xx"}
    )


def test_serve_adds_up_the_counters_of_its_two_workers_and_removes_its_folder_when_it_stops(tmp_path):
    runtime = tmp_path / "run"  # as systemd's RuntimeDirectory=
    runtime.mkdir()
    env = clean_env(tmp_path / "var", SMISHGUARD_METRICS_TOKEN=TOKEN, RUNTIME_DIRECTORY=str(runtime))
    smishguard(env, "migrate")
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.err", "w"),  # noqa: SIM115 - lives as long as the server
    )
    url = f"http://127.0.0.1:{port}"
    sent = 0
    try:
        wait_for(url + "/healthz")
        [folder] = wait_until(lambda: list(runtime.glob("smishguard-metrics-*")), "the metrics folder", process=process)

        def counting_workers() -> set[str]:
            return {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}

        with ThreadPoolExecutor(max_workers=8) as pool:

            def both_counted() -> bool:
                nonlocal sent
                statuses = list(pool.map(lambda _: _get(url + "/api/me")[0], range(16)))
                assert statuses == [401] * 16
                sent += 16
                return len(counting_workers()) >= 2

            wait_until(both_counted, "requests answered by both workers", process=process)
        status, body = _get(url + "/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert int(_api_requests(body.decode())) == sent  # one scrape, every worker's requests
        per_worker = []
        for path in sorted(folder.glob("counter_*.db")):
            alone = tmp_path / f"alone-{path.stem}"
            alone.mkdir()
            shutil.copy(path, alone / path.name)
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(alone))
            per_worker.append(int(_api_requests(generate_latest(registry).decode())))
        assert len([n for n in per_worker if n > 0]) == 2, per_worker
        assert sum(per_worker) == sent
    finally:
        stop(process)
    assert not list(runtime.glob("smishguard-metrics-*"))  # removed when the server stopped
