"""Issue 16 in a real browser through a real nginx: chromium signs in with its virtual key and opens the sample
customer console behind deploy/nginx-gateway.conf, whose rule has ``training_required = true``.  While Ann's
training is overdue the browser gets nginx's page "Your security training is overdue" with a link to smishguard's
/learn/; once a pass is recorded (as the quiz records it: an attempt, then ``compliance.complete``) the very next
load of the same page reaches the app.  Distinct host names through chromium's --host-resolver-rules."""

from __future__ import annotations

import json

import pytest
from browser import REGISTER_JS, add_virtual_key, chromium
from gateway_nginx import APP_HOST, gateway_site
from servers import django_eval, smishguard

pytestmark = pytest.mark.e2e

POLICY = f"""
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/?$", "^/static/"]
policy = "signed_in"
training_required = true
"""
OVERDUE = """
from datetime import timedelta
from django.utils import timezone
from smishguard.accounts import services
from smishguard.training import compliance
from smishguard.training.models import Module
module = Module.objects.get(slug="smishing")  # the bundled module (training migration 0002)
compliance.assign(services.get_employee("ann@corp.test"), module, due_at=timezone.now() - timedelta(days=2))
"""
PASS = """
from datetime import timedelta
from django.utils import timezone
from smishguard.accounts import services
from smishguard.training import compliance
from smishguard.training.models import Attempt, ModuleVersion
now = timezone.now()
attempt = Attempt.objects.create(employee=services.get_employee("ann@corp.test"), score=100, passed=True,
    version=ModuleVersion.objects.get(module__slug="smishing"), started_at=now - timedelta(minutes=3), submitted_at=now)
print(compliance.complete(attempt) is not None)
"""


def test_an_overdue_employee_is_refused_then_admitted_after_a_pass(tmp_path):
    site = gateway_site(tmp_path, POLICY)
    env, auth_origin, app_origin = site.env, site.auth_origin, site.app_origin
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann Agent")
    token = json.loads(smishguard(env, "employees", "invite", "ann@corp.test", "--json").stdout)["token"]
    django_eval(env, OVERDUE)
    customers = f"{app_origin}/customers"
    with site.running(), chromium(site.chromium_args()) as browser:
        context = browser.new_context()
        page = context.new_page()
        add_virtual_key(context, page)
        page.goto(auth_origin + "/api/openapi.json")
        assert page.evaluate(REGISTER_JS, token)["status"] == 201

        # Signed out: to the sign-in page, back to the list after the key touch, which nginx then refuses.
        page.goto(customers)
        page.fill("input[name=email]", "ann@corp.test")
        with page.expect_navigation(url=customers, timeout=60_000):
            page.click("button[type=submit]")
        assert page.text_content("#title") == "Your security training is overdue"
        assert page.text_content("#reason") == "training_overdue"
        assert page.get_attribute("#link", "href") == auth_origin + "/learn/smishing/"
        assert page.text_content("#link") == "Go to your training"
        response = page.reload()
        assert response.status == 403

        # A pass is recorded: the very next load reaches the app.
        assert django_eval(env, PASS).strip() == "True"
        response = page.reload()
        assert response.status == 200
        assert page.query_selector("#reason") is None
        assert page.text_content("#who") == "ann@corp.test"
