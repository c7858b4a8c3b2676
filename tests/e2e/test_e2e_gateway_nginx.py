"""Issue 14 in a real browser through a real nginx: chromium, the shipped deploy/nginx-gateway.conf in front of the
sample customer console, smishguard (gunicorn, two workers) on its own host name.

smishguard serves http://auth.corp.test:PORT (RP ID corp.test, SMISHGUARD_COOKIE_DOMAIN=.corp.test), nginx serves
http://customers.corp.test:PORT2 and asks smishguard's auth-request check about every request; distinct host
names through chromium's --host-resolver-rules, never localhost ports (which share cookies).  The browser opens a
customer record, is sent to the sign-in page with rd, signs in with its virtual key, is back at the record, where
the app names the person; later its key touch is too old for the record's step_up rule: the sign-in page in
step-up mode, one touch, and the same session is back at the record.  A crafted URL gets nginx's readable page.
The HTTP-level cases (spoofed headers, cookies, crafted URLs, networks, revocation) are
tests/integration/test_gateway_nginx.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import REGISTER_JS, add_virtual_key, chromium
from gateway_nginx import APP_HOST, gateway_site
from servers import Database, smishguard

pytestmark = pytest.mark.e2e

POLICY = f"""
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/(?P<customer>[^/]+)$"]
methods = ["GET", "HEAD"]
subject = ["group:customer-data"]
policy = "step_up"
reauth_max_age = 600

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/?$", "^/static/"]
policy = "signed_in"
"""


def age_sessions(env: dict[str, str]) -> None:
    with Database(env) as db:
        db.execute("UPDATE accounts_session SET last_assertion_at = '2000-01-01 00:00:00'")


def test_sign_in_and_step_up_through_nginx_back_to_the_customer_record(tmp_path):
    site = gateway_site(tmp_path, POLICY)
    env, auth_origin, app_origin = site.env, site.auth_origin, site.app_origin
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann Agent", "--group", "customer-data")
    token = json.loads(smishguard(env, "employees", "invite", "ann@corp.test", "--json").stdout)["token"]

    record = f"{app_origin}/customers/1042?tab=notes"
    with site.running(), chromium(site.chromium_args()) as browser:
        context = browser.new_context()
        page = context.new_page()
        key = add_virtual_key(context, page)
        page.goto(auth_origin + "/api/openapi.json")
        result = page.evaluate(REGISTER_JS, token)
        assert result["status"] == 201, result

        # No session: nginx sends the browser to the sign-in page, which returns to the record.
        page.goto(record)
        at = urlsplit(page.url)
        assert f"{at.scheme}://{at.netloc}{at.path}" == auth_origin + "/signin"
        assert parse_qs(at.query) == {"rd": [record], "rm": ["GET"]}
        page.fill("input[name=email]", "ann@corp.test")
        with page.expect_navigation(url=record, timeout=60_000):
            page.click("button[type=submit]")
        assert page.url == record
        assert page.text_content("h1").endswith("(1042)")
        # The identity the app shows: Remote-User, marked unverified until smishguard signs an assertion
        # The app verified smishguard's signed assertion: it names Ann.
        assert page.text_content("#who-state") == "Verified"
        assert page.text_content("#who") == "ann@corp.test"
        touches = key.credentials()[0]["signCount"]

        # The key touch is now too old for the record's step_up rule: the sign-in page in step-up mode.
        age_sessions(env)
        page.goto(record)
        at = urlsplit(page.url)
        assert f"{at.scheme}://{at.netloc}{at.path}" == auth_origin + "/signin"
        assert parse_qs(at.query) == {"rd": [record], "rm": ["GET"], "stepup": ["1"]}
        page.wait_for_selector("[data-webauthn='stepup']")
        with page.expect_navigation(url=record, timeout=60_000):
            page.click("button:has-text('Touch your key')")
        assert page.text_content("h1").endswith("(1042)")
        assert key.credentials()[0]["signCount"] > touches

        # A crafted address: nginx's page says why, in words.
        response = page.goto(f"{app_origin}/customers%2F1042")
        assert response.status == 403
        assert page.text_content("#title") == "This address cannot be opened"
        assert page.text_content("#reason") == "encoded_slash"
        assert "gateway refuses to pass on" in page.text_content("#advice")
