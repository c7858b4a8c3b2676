"""End to end in a real chromium: an employee signs in with a security key, opens /learn/, reads the bundled
smishing module, takes its quiz (one wrong answer: 83%, over the pass mark of 80%) and the page says they passed.
The right answers come from the module's own files (training/content/smishing/module.json)."""

import json
from pathlib import Path

import pytest
from browser import add_virtual_key, chromium
from servers import Database, clean_env, free_port, gunicorn, smishguard

import smishguard as package

pytestmark = pytest.mark.e2e

QUIZ = json.loads((Path(package.__file__).parent / "training/content/smishing/module.json").read_text())["quiz"]


def test_an_employee_takes_the_smishing_module_and_passes(tmp_path):
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(
        tmp_path / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost", SMISHGUARD_ALLOWED_HOSTS="localhost"
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "pat@example.com", "--name", "Pat Person")
    link = json.loads(smishguard(env, "employees", "invite", "pat@example.com", "--json").stdout)["url"]

    with gunicorn(env, workers=2, log_dir=tmp_path, port=port), chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        add_virtual_key(context, page)
        page.goto(link)
        page.fill("#key-name", "Keyring key")
        page.click("text=Register security key")
        page.wait_for_selector("[data-webauthn-done]:not([hidden])", timeout=15000)
        page.click("text=Continue to sign in")
        page.wait_for_url(f"{origin}/signin*")
        page.click("button:has-text('Sign in with security key')")
        page.wait_for_url(f"{origin}/", timeout=15000)  # the portal

        page.click("nav >> text=Training")
        page.wait_for_url(f"{origin}/learn/")
        assert page.inner_text("[data-module='smishing'] [data-state]") == "Not assigned"
        page.click("[data-module='smishing'] >> text=Start")
        page.wait_for_url(f"{origin}/learn/smishing/")
        assert "twilio-sso.com" in page.inner_text("[data-module-body]")
        page.click("text=Take the quiz")
        page.wait_for_url(f"{origin}/learn/smishing/quiz")
        for i, item in enumerate(QUIZ):
            choice = item["answer"] if i else (item["answer"] + 1) % len(item["choices"])  # the first one wrong
            page.check(f"input[name='q{i}'][value='{choice}']")
        page.click("button:has-text('Submit answers')")
        page.wait_for_selector("[data-result]", timeout=15000)
        assert page.get_attribute("[data-result]", "data-result") == "passed"
        assert "You passed with 83%" in page.inner_text("[data-result]")
        assert page.locator("[data-right='no']").count() == 1
        page.click("text=Back to training")
        page.wait_for_url(f"{origin}/learn/")
        assert page.inner_text("[data-module='smishing'] [data-state]") == "Current"

    with Database(env) as db:
        rows = db.execute("SELECT score, passed FROM training_attempt").fetchall()
    assert [(score, bool(passed)) for score, passed in rows] == [(83, True)]
