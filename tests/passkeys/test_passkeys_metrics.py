"""Sign-ins by result on GET /metrics (counted as audit.record writes SIGNIN_SUCCEEDED / SIGNIN_FAILED, or only
counts a refusal of nobody's key)."""

from __future__ import annotations

import pytest
from django.test import Client
from passkeys_api import events
from prometheus_client.parser import text_string_to_metric_families
from softkey import SoftKey

from smishguard.audit import Action

TOKEN = "m3tr1cs-t0ken-for-the-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def signins() -> dict[str, float]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "smishguard_signins_total"
    }


def test_sign_ins_are_counted_by_result(employee, enrolled, sign_in):
    before = signins()
    assert sign_in(enrolled).status_code == 200
    assert sign_in(enrolled, uv=False).status_code == 403
    after = signins()
    assert after["success"] - before.get("success", 0) == 1
    assert after["user_verification_missing"] - before.get("user_verification_missing", 0) == 1


def test_refusals_of_nobodys_key_are_counted_each_time_though_audited_once(employee, enrolled, sign_in):
    stranger = SoftKey()  # never enrolled: nobody's key, recorded once per source and window
    before = signins()
    for _ in range(3):
        assert sign_in(stranger, email=None).status_code in {400, 401, 403}
    after = signins()
    grown = {result: after[result] - before.get(result, 0) for result in after}
    assert sum(grown.values()) == 3
    assert "success" not in grown or grown["success"] == 0
    assert len(events(Action.SIGNIN_FAILED)) == 1
