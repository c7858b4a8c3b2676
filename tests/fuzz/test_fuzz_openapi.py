"""schemathesis over every operation of the OpenAPI schema (/api/openapi.json): no 5xx, and every response
conforms to the schema (its status code, media type and body).  Authenticated where the operation needs it: an
API token with every scope (issued by the app's own ``accounts.tokens.issue``), and a signed-in employee's session
cookie with the Origin and CSRF token that smishguard's own pages send.  Each example runs in a savepoint rolled
back after it (signing out, removing a key), through Django's WSGI application in this process."""

from __future__ import annotations

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.middleware.csrf import _get_new_csrf_string
from fuzzing import FUZZ, rolled_back
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from twilio_fixtures import keeping_the_test_connection

from smishguard.api import api

pytestmark = [pytest.mark.once, pytest.mark.django_db]

EXAMPLES = 10  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api"))
APP = get_wsgi_application()
# No 5xx; every status code, media type and body as the schema documents it.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def credentials(request, db):
    """Who calls: "admin", a signed-in admin whose requests also carry a token with every scope."""
    from smishguard.accounts import scopes, sessions, tokens
    from smishguard.accounts.services import add_employee

    employee = add_employee(email="fuzz@example.com", name="Fuzz Tester", is_admin=request.param == "admin")
    cookie, _ = sessions.create(employee, request=None)
    _, secret = tokens.issue("fuzz", scopes=list(scopes.names()))
    csrf = _get_new_csrf_string()
    headers = {
        "Authorization": f"Bearer {secret}",
        "Origin": django_settings.SMISHGUARD.origin,
        "X-CSRFToken": csrf,
    }
    cookies = {django_settings.SESSION_COOKIE_NAME: cookie, django_settings.CSRF_COOKIE_NAME: csrf}
    return headers, cookies


@schema.parametrize()
# Parametrized as well (one caller) so that each operation's test has a node id of its own: schemathesis alone
# names them all alike, and pytest-xdist would run only the first (tests/support/scheduling.py).
@pytest.mark.parametrize("credentials", ["admin"], indirect=True)
@settings(FUZZ, max_examples=EXAMPLES)
def test_every_operation_answers_without_5xx_and_as_the_schema_says(case, credentials):
    headers, cookies = credentials
    with keeping_the_test_connection(), rolled_back():
        case.call_and_validate(
            app=APP,
            headers=headers,
            cookies=cookies,
            checks=CHECKS,
        )
