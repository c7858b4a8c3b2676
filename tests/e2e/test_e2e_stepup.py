"""End to end in a real chromium: a session whose last key touch is old must touch a key again (step-up).

The session is aged in the database (its ``last_assertion_at`` set in the past) rather than by waiting.
"""

import json

import pytest
from browser import add_virtual_key, chromium
from servers import Database, clean_env, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e


def age_sessions(env: dict[str, str]) -> None:
    with Database(env) as db:  # the SQLite file, or in postgres mode the server's database
        db.execute("UPDATE accounts_session SET last_assertion_at = '2000-01-01 00:00:00'")


def test_a_stale_session_touches_its_key_before_revoking_all_and_adding_a_key(tmp_path):
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(
        tmp_path / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost", SMISHGUARD_ALLOWED_HOSTS="localhost"
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "sec@example.com", "--name", "Sam Security", "--admin")
    link = json.loads(smishguard(env, "employees", "invite", "sec@example.com", "--json").stdout)["url"]

    with gunicorn(env, workers=2, log_dir=tmp_path, port=port), chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        key = add_virtual_key(context, page)
        page.goto(link)
        page.fill("#key-name", "Keyring key")
        page.click("text=Register security key")
        page.wait_for_selector("[data-webauthn-done]:not([hidden])", timeout=15000)
        page.click("text=Continue to sign in")
        page.wait_for_url(f"{origin}/signin*")
        page.click("button:has-text('Sign in with security key')")
        page.wait_for_url(f"{origin}/console/**", timeout=15000)
        count_after_signin = key.credentials()[0]["signCount"]

        # A sensitive console action with a stale session: the "touch your key" page, then back to the form.
        age_sessions(env)
        page.goto(f"{origin}/console/sessions/revoke-all")
        page.fill("#confirm", "REVOKE ALL")
        page.click("button:has-text('Revoke all sessions')")
        page.wait_for_selector("[data-webauthn='stepup']", timeout=15000)
        page.click("button:has-text('Touch your key')")
        # The step-up page answered the POST at the same address; back on the form once its field is there.
        page.wait_for_selector("#confirm", timeout=15000)
        assert page.url == f"{origin}/console/sessions/revoke-all"
        assert key.credentials()[0]["signCount"] > count_after_signin
        page.fill("#confirm", "REVOKE ALL")
        page.click("button:has-text('Revoke all sessions')")
        page.wait_for_url(f"{origin}/console/sessions", timeout=15000)
        assert "Revoked" in page.content()

        # Adding a key from the portal with a stale session: the page first asks for a registered key (step-up);
        # this browser's only authenticator holds that key, so the new-key part then says it is already registered.
        age_sessions(env)
        page.goto(f"{origin}/portal/keys")
        page.fill("#new-key-name", "Desk key")
        page.click("button:has-text('Register a new key')")
        page.wait_for_selector("[data-webauthn-status][data-state='error']", timeout=15000)
        assert "already registered" in page.inner_text("[data-webauthn-status]")
        assert key.credentials()[0]["signCount"] > count_after_signin + 1  # touched again for the step-up
        # A second authenticator in place of the first: the session is fresh now, so the new key goes straight in.
        key.remove()
        second = add_virtual_key(context, page)
        page.click("button:has-text('Register a new key')")
        page.wait_for_selector("[data-new-key] input[value='Desk key']", timeout=15000)
        assert "— new" in page.inner_text("[data-new-key]:has(input[value='Desk key'])")
        assert len(second.credentials()) == 1

    events = [json.loads(line)["action"] for line in smishguard(env, "audit", "export").stdout.splitlines()]
    assert events.count("passkeys:stepup:succeeded") == 2
    assert events.count("accounts:session:stepup_required") == 2
    assert "passkeys:key:registered" in events
