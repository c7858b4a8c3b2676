"""End to end in a real chromium with a virtual security key: enrol from a link, sign in, be revoked."""

import json

import pytest
from browser import add_virtual_key, chromium
from servers import clean_env, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e


def enrol_and_sign_in(browser, origin: str, link: str, name: str):
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    key = add_virtual_key(context, page)
    page.goto(link)
    page.fill("#key-name", f"{name}'s test key")
    page.click("text=Register security key")
    page.wait_for_selector("[data-webauthn-done]:not([hidden])", timeout=15000)
    assert len(key.credentials()) == 1
    page.click("text=Continue to sign in")
    page.wait_for_url(f"{origin}/signin*")
    page.click("button:has-text('Sign in with security key')")
    # Employees land on their portal, admins on the console.
    page.wait_for_url(lambda url: url.startswith(origin) and "/signin" not in url, timeout=15000)
    return context, page, key


def test_enrol_sign_in_and_admin_revocation(tmp_path):
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(
        tmp_path / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost", SMISHGUARD_ALLOWED_HOSTS="localhost"
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@example.com", "--name", "Ann Employee", "--department", "Support")
    smishguard(env, "employees", "add", "sec@example.com", "--name", "Sam Security", "--admin")
    ann_link = json.loads(smishguard(env, "employees", "invite", "ann@example.com", "--json").stdout)["url"]
    sec_link = json.loads(smishguard(env, "employees", "invite", "sec@example.com", "--json").stdout)["url"]

    with gunicorn(env, workers=2, log_dir=tmp_path, port=port), chromium() as browser:
        _, ann, ann_key = enrol_and_sign_in(browser, origin, ann_link, "Ann")
        assert ann.url == f"{origin}/"
        assert "Ann Employee" in ann.content()
        me = ann.evaluate("fetch('/api/me').then(r => r.json())")
        assert me["email"] == "ann@example.com"
        assert me["auth_method"] == "webauthn"
        assert ann_key.credentials()[0]["signCount"] >= 1
        # The enrolment link was single-use.
        reuse = ann.context.new_page()
        reuse.goto(ann_link)
        assert "Register security key" not in reuse.content()

        _, sec, _ = enrol_and_sign_in(browser, origin, sec_link, "Sam")
        sec.goto(f"{origin}/console/employees?q=ann")
        sec.click("a:has-text('Ann Employee')")
        sec.click("button:has-text('Revoke all of Ann Employee')")
        sec.wait_for_load_state()

        ann.reload()
        assert "/signin" in ann.url
        status = ann.evaluate("fetch('/api/me').then(r => r.status)")
        assert status == 401
        # The admin's own session is untouched.
        assert sec.evaluate("fetch('/api/me').then(r => r.status)") == 200

    events = [json.loads(line)["action"] for line in smishguard(env, "audit", "export").stdout.splitlines()]
    for action in (
        "accounts:enrolment:used",
        "passkeys:key:registered",
        "passkeys:signin:succeeded",
        "accounts:session:revoked",
    ):
        assert action in events, action
