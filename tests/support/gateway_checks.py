"""What the gateway's tests share (tests/gateway): a route policy applied to the test's settings, an employee's
signed-in test client, and a request to the check in nginx's ``auth_request`` dialect."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.models import Session

AUTH_REQUEST = "/api/authz/auth-request"

# The policy the forward-auth and ext-authz dialects are both tested on (test_gateway_forwardauth.py,
# test_gateway_extauthz.py): the same rules, asked as each proxy asks.
DIALECTS_POLICY = """
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/admin"]
policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:support"]
policy = "signed_in"

[[gateway.rules]]
domain = "vault.example.com"
subject = ["group:support"]
policy = "step_up"
reauth_max_age = 300

[[gateway.rules]]
domain = "intranet.example.com"
networks = ["10.0.0.0/8"]
policy = "signed_in"
"""


# Customer data on customers.example.com for the support group, a record's /secret denied to all, and a step-up
# route with customer ids on vault.example.com: the access record's and the breach scope's tests.
ACCESS_POLICY = """
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)/secret"]
policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)", "^/reports"]
subject = ["group:support"]
policy = "signed_in"

[[gateway.rules]]
domain = "vault.example.com"
resources = ["^/accounts/(?P<customer>[0-9]+)"]
subject = ["group:support"]
policy = "step_up"
reauth_max_age = 300
"""


def use_policy(settings, text: str) -> None:
    """Make ``text`` (smishguard.toml, with its ``[gateway]``) the configuration of the test (pytest-django's
    ``settings`` fixture), as a start of the web server would read it."""
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(text))


def signed_in(employee, ip: str | None = None, *, created_ago: timedelta | None = None) -> tuple[Client, Session]:
    """A test client holding a new session of ``employee`` (from ``ip``, begun ``created_ago``, when given)."""
    token, session = sessions.create(employee, request=None)
    changes = {}
    if ip is not None:
        changes["ip"] = ip
    if created_ago is not None:
        changes["created_at"] = timezone.now() - created_ago
    if changes:
        Session.objects.filter(pk=session.pk).update(**changes)
        session.refresh_from_db()
    client = Client()
    client.cookies["sg_session"] = token
    return client, session


def ask(client: Client, url: str, method: str = "GET", **extra):
    """What nginx's ``auth_request`` asks the check for ``method url`` (from 127.0.0.1, the test client's)."""
    return client.get(AUTH_REQUEST, HTTP_X_ORIGINAL_METHOD=method, HTTP_X_ORIGINAL_URL=url, **extra)
