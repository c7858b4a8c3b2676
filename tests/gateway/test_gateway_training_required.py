"""Issue 16: a rule with ``training_required = true`` refuses an employee with overdue training (403
``training_overdue``, with where to take it) and admits them on the very next request after a pass; a key touch
asked for (``accounts.sessions.require_key_touch``) turns every admission into a step-up until the next key
assertion.  Through the nginx ``auth_request`` dialect and forward-auth, in SQLite and production mode alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from compliance_helpers import make_module, take_quiz
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from gateway_checks import ask, signed_in, use_policy

from smishguard.accounts import sessions
from smishguard.config import ConfigError
from smishguard.gateway import requirements, rules
from smishguard.gateway.models import AccessRecord
from smishguard.training import compliance

POLICY = """
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "intranet.example.com"
resources = ["^/open"]
policy = "signed_in"

[[gateway.rules]]
domain = "intranet.example.com"
resources = ["^/customers/(?P<customer>[0-9]+)"]
policy = "signed_in"
training_required = true

[[gateway.rules]]
domain = "intranet.example.com"
policy = "step_up"
reauth_max_age = 600
training_required = true
"""
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, POLICY)


@pytest.fixture
def overdue(bob):
    """Bob, whose smishing module was due yesterday."""
    module = make_module()
    compliance.assign(bob, module, due_at=timezone.now() - timedelta(days=1))
    return bob, module


def test_the_rule_key_is_a_boolean_and_not_for_deny_rules():
    policy = rules.parse({"gateway": {"rules": [{"domain": "a.example.com", "policy": "signed_in"}]}})
    assert policy.rules[0].training_required is False
    assert policy.rules[0].requirements == ()
    for value in ("yes", 1, "true"):
        with pytest.raises(ConfigError, match=r"#1: training_required must be true or false"):
            rules.parse(
                {"gateway": {"rules": [{"domain": "a.example.com", "policy": "signed_in", "training_required": value}]}}
            )
    with pytest.raises(ConfigError, match="training_required is for signed_in and step_up rules"):
        rules.parse({"gateway": {"rules": [{"domain": "a.example.com", "policy": "deny", "training_required": True}]}})
    parsed = rules.parse(
        {"gateway": {"rules": [{"domain": "a.example.com", "policy": "signed_in", "training_required": True}]}}
    )
    assert parsed.rules[0].requirements == ("training",)
    assert parsed.rules[0].describe().endswith("-> signed_in, training required")
    assert requirements.registered("training") is not None  # training registered it at start


def test_an_overdue_employee_is_refused_then_admitted_on_the_next_request_after_a_pass(overdue, settings):
    bob, module = overdue
    client, _ = signed_in(bob)
    refused = ask(client, "https://intranet.example.com/customers/42")
    assert refused.status_code == 403
    assert refused["X-Smishguard-Reason"] == "training_overdue"
    # The refusal takes Bob to the overdue module itself.
    assert refused["Location"] == settings.SMISHGUARD.origin.rstrip("/") + f"/learn/{module.slug}/"
    assert "Remote-User" not in refused
    # The refusal on a customer-data route is a refused attempt in the access record, with its reason.
    row = AccessRecord.objects.get()
    assert (row.decision, row.reason, row.customer) == ("deny", "training_overdue", "42")
    # A rule without training_required still admits Bob.
    assert ask(client, "https://intranet.example.com/open").status_code == 200
    # Bob passes: the very next request is admitted.
    take_quiz(bob, module)
    admitted = ask(client, "https://intranet.example.com/customers/42")
    assert admitted.status_code == 200
    assert admitted["Remote-User"] == "bob@example.com"


def test_a_failed_attempt_or_a_due_date_still_ahead(bob):
    module = make_module()
    compliance.assign(bob, module, due_at=timezone.now() + timedelta(hours=1))
    client, _ = signed_in(bob)
    assert ask(client, "https://intranet.example.com/customers/7").status_code == 200  # due, not overdue
    compliance.assign(bob, module, due_at=timezone.now() - timedelta(minutes=1))
    take_quiz(bob, module, passed=False, score=20)
    assert ask(client, "https://intranet.example.com/customers/7")["X-Smishguard-Reason"] == "training_overdue"


def test_only_rules_with_training_required_pay_the_query(overdue):
    bob, _ = overdue
    client, _ = signed_in(bob)
    ask(client, "https://intranet.example.com/open")  # warm: the first check of a session writes more
    with CaptureQueriesContext(connection) as plain:
        assert ask(client, "https://intranet.example.com/open").status_code == 200
    assert not any("training_assignment" in q["sql"] for q in plain.captured_queries)
    with CaptureQueriesContext(connection) as trained:
        assert ask(client, "https://intranet.example.com/customers/1").status_code == 403
    # The check, then (for the refusal only) where to send Bob: the overdue module's page.
    assert sum("training_assignment" in q["sql"] for q in trained.captured_queries) == 2


def test_the_refusal_leads_to_the_module_overdue_the_longest(bob, settings):
    older, newer = make_module("phishing-basics"), make_module()
    compliance.assign(bob, newer, due_at=timezone.now() - timedelta(days=1))
    compliance.assign(bob, older, due_at=timezone.now() - timedelta(days=9))
    client, _ = signed_in(bob)
    learn = settings.SMISHGUARD.origin.rstrip("/") + "/learn/"
    assert ask(client, "https://intranet.example.com/customers/3")["Location"] == learn + "phishing-basics/"
    take_quiz(bob, older)
    assert ask(client, "https://intranet.example.com/customers/3")["Location"] == learn + "smishing/"
    take_quiz(bob, newer)
    assert ask(client, "https://intranet.example.com/customers/3").status_code == 200
    assert requirements.registered("training").location(bob.pk) == "/learn/"  # nothing overdue: the index


def test_forward_auth_gives_a_browser_a_page_to_the_training_and_others_a_line(overdue, settings):
    bob, _ = overdue
    client, _ = signed_in(bob)
    headers = {
        "HTTP_X_FORWARDED_METHOD": "GET",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "intranet.example.com",
        "HTTP_X_FORWARDED_URI": "/customers/9",
        "REMOTE_ADDR": "127.0.0.1",
    }
    learn = settings.SMISHGUARD.origin.rstrip("/") + "/learn/smishing/"
    page = client.get("/api/authz/forward-auth", HTTP_ACCEPT=BROWSER_ACCEPT, **headers)
    assert page.status_code == 403
    assert page["X-Smishguard-Reason"] == "training_overdue"
    assert page["Content-Type"] == "text/html; charset=utf-8"
    text = page.content.decode()
    assert "Your security training is overdue" in text
    assert f"<a id=link href='{learn}'>Go to your training</a>" in text
    assert "<script" not in text
    assert "style" not in text
    api = client.get("/api/authz/forward-auth", HTTP_ACCEPT="application/json", **headers)
    assert api.status_code == 403
    assert api["X-Smishguard-Reason"] == "training_overdue"
    assert api["Content-Type"].startswith("text/plain")
    assert api.content.decode().splitlines()[1:] == ["reason: training_overdue", learn]
    xhr = client.get(
        "/api/authz/forward-auth", HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_X_REQUESTED_WITH="XMLHttpRequest", **headers
    )
    assert xhr["Content-Type"].startswith("text/plain")


def test_a_demanded_key_touch_makes_every_admission_a_step_up_until_the_next_assertion(bob):
    client, session = signed_in(bob)
    assert ask(client, "https://intranet.example.com/open").status_code == 200
    assert sessions.require_key_touch(bob, reason="simulation submitted") == 1
    for url in ("https://intranet.example.com/open", "https://intranet.example.com/customers/3"):
        answer = ask(client, url)
        assert answer.status_code == 401
        assert answer["X-Smishguard-Reason"] == "step_up"
        assert "stepup=1" in answer["Location"]
    row = AccessRecord.objects.get()
    assert (row.decision, row.reason) == ("step_up", "key_touch_demanded")
    # A step-up ceremony marks the assertion (passkeys calls mark_assertion): admitted again.
    sessions.mark_assertion(session, at=timezone.now() + timedelta(seconds=1))
    assert ask(client, "https://intranet.example.com/open").status_code == 200
    assert ask(client, "https://intranet.example.com/customers/3").status_code == 200


def test_a_key_touch_demand_comes_before_overdue_training_and_signed_out_is_unchanged(overdue):
    bob, _ = overdue
    client, _ = signed_in(bob)
    sessions.require_key_touch(bob, reason="test")
    assert ask(client, "https://intranet.example.com/customers/5")["X-Smishguard-Reason"] == "step_up"
    from django.test import Client

    anonymous = ask(Client(), "https://intranet.example.com/customers/5")
    assert (anonymous.status_code, anonymous["X-Smishguard-Reason"]) == (401, "signed_out")
