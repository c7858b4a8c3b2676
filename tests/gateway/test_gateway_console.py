"""Issue 14: the console's gateway rules page — the rules as loaded, and "try a request", which answers as
``smishguard gateway check`` does (the same rule, decision and reason).  Admins only.  Both modes."""

from __future__ import annotations

import tomllib

import pytest
from django.urls import reverse
from gateway_checks import use_policy
from page_fixtures import signed_in_client

from smishguard.accounts.services import add_employee
from smishguard.gateway import rules

POLICY = """
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET"]
subject = ["group:support"]
policy = "step_up"
reauth_max_age = 300

[[gateway.rules]]
domain = "*.wiki.example.com"
policy = "signed_in"
"""

PAGE = "/console/gateway/rules"


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, POLICY)


@pytest.fixture
def admin_client(db):
    admin = add_employee(email="ada@example.com", name="Ada Admin", is_admin=True)
    return signed_in_client(admin)


def test_the_page_is_in_the_menu_and_shows_the_rules_in_order(admin_client, bob):
    assert reverse("gateway_console:rules") == PAGE
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{PAGE}" aria-current="page"' in html
    assert rules.fingerprint(tomllib.loads(POLICY)) in html
    first, second = html.index("<code>customers.example.com</code>"), html.index("<code>*.wiki.example.com</code>")
    assert first < second
    assert "<code>^/customers/(?P&lt;customer&gt;[^/]+)</code>" in html
    assert "group:support" in html
    assert "key touched in the last 300 s" in html
    assert 'id="trial"' not in html  # nothing tried yet


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"user": "bob@example.com", "url": "https://customers.example.com/customers/42"},
            ("allow", "step_up_fresh", 1),
        ),
        (
            {"user": "bob@example.com", "url": "https://customers.example.com/customers/42", "seconds": "301"},
            ("step_up", "step_up", 1),
        ),
        (
            {"user": "bob@example.com", "method": "POST", "url": "https://customers.example.com/customers/42"},
            ("deny", "method", None),
        ),
        ({"url": "https://customers.example.com/customers/42"}, ("sign_in", "signed_out", 1)),
        ({"user": "bob@example.com", "url": "https://a.wiki.example.com/page?x=1"}, ("allow", "signed_in", 2)),
        ({"user": "bob@example.com", "url": "https://intranet.example.com/"}, ("deny", "unknown_host", None)),
    ],
)
def test_try_a_request_answers_as_the_cli_does(admin_client, bob, query, expected):
    decision, reason, rule = expected
    page = admin_client.get(PAGE, query)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="trial"' in html
    assert f">{decision}</span> <code>{reason}</code>" in html
    if rule is None:
        assert "no rule decides (default policy <code>deny</code>)" in html
    else:
        assert f"<code>rule #{rule}: " in html
    if decision == "allow" and rule == 1:
        assert "<dt>Customer</dt><dd><code>42</code></dd>" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"user": "nobody@example.com", "url": "https://customers.example.com/customers/1"},
            "no employee with the email",
        ),
        ({"url": "https://customers.example.com/customers%2F1"}, "the gateway refuses this request (encoded_slash)"),
        ({"url": "https://customers.example.com/", "address": "ten"}, "&#x27;ten&#x27; is not an IP address"),
        ({"url": "https://customers.example.com/", "seconds": "soon"}, "must be a number &gt;= 0"),
        ({"url": "https://customers.example.com/", "seconds": "-1"}, "must be a number &gt;= 0"),
    ],
)
def test_bad_input_is_a_readable_line_on_the_page(admin_client, bob, query, message):
    page = admin_client.get(PAGE, query)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<p class="flash flash-error">' in html
    assert message in html


def test_a_rule_naming_a_missing_group_is_shown_as_a_problem(admin_client, settings):
    page = admin_client.get(PAGE)  # no employee is in "support": the group does not exist
    assert page.status_code == 200
    assert "subject: no such group: support" in page.content.decode()


def test_only_admins_see_it(bob, client):
    assert signed_in_client(bob).get(PAGE).status_code == 403
    signed_out = client.get(PAGE)
    assert signed_out.status_code == 302
    assert "/signin" in signed_out["Location"]
