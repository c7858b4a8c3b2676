"""Security headers on every kind of response, and the API documentation for signed-in admins only.

The browser's side (no page reports a CSP violation) is tests/e2e/test_e2e_security_headers.py; here the headers
themselves, through Django's test client, on pages, JSON, errors and static files.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from servers import clean_env, django_eval

UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:")


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_strict_csp(response) -> dict[str, list[str]]:
    assert "Content-Security-Policy" in response.headers, response
    policy = directives(response.headers["Content-Security-Policy"])
    for name, sources in policy.items():
        assert not set(sources) & set(UNSAFE), (name, sources)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] in (["'none'"], ["'self'"])
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    return policy


def permissions(response) -> dict[str, str]:
    header = response.headers.get("Permissions-Policy", "")
    return dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item)


@pytest.mark.parametrize("path", ["/signin", "/no-such-page", "/api/openapi.json", "/api/me", "/static/css/app.css"])
def test_signed_out_responses_carry_the_policies(db, path):
    response = Client().get(path)
    assert_strict_csp(response)
    features = permissions(response)
    for denied in ("camera", "microphone", "geolocation", "payment", "usb", "display-capture", "hid", "serial"):
        assert features.get(denied) == "()", (denied, features)
    assert features["publickey-credentials-get"] == "(self)"
    assert features["publickey-credentials-create"] == "(self)"


def test_signed_in_pages_carry_the_policies(employee, admin, login):
    for client, path in [
        (login(employee), "/"),
        (login(employee), "/console/employees"),
        (login(admin), "/console/coverage"),
    ]:
        response = client.get(path)
        assert response.status_code in (200, 403)
        assert_strict_csp(response)
        assert permissions(response)["camera"] == "()"


def test_no_hsts_on_an_http_origin(db):
    assert "Strict-Transport-Security" not in Client().get("/signin").headers


def test_an_https_origin_gets_hsts_on_every_response(tmp_path):
    # The origin is read when the settings load, so this runs in a process of its own; the request itself comes
    # in as plain HTTP (as from a TLS-terminating proxy that Django is not told about): the header still goes.
    env = clean_env(tmp_path / "var", SMISHGUARD_ORIGIN="https://login.example.com", SMISHGUARD_RP_ID="example.com")
    code = (
        "import json\nfrom django.test import Client\nout = {}\n"
        "for path in ('/signin', '/api/openapi.json', '/static/css/app.css'):\n"
        "    r = Client().get(path, HTTP_HOST='localhost')\n"
        "    out[path] = r.headers.get('Strict-Transport-Security')\n"
        "print(json.dumps(out))"
    )
    seen = json.loads(django_eval(env, code))
    for path, value in seen.items():
        assert value is not None, path
        max_age = int(re.search(r"max-age=(\d+)", value).group(1))
        assert max_age >= 365 * 86400, (path, value)


# --- the API documentation ----------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in_from_the_api_docs(db):
    response = Client().get("/api/docs")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")
    assert "%2Fapi%2Fdocs" in response["Location"] or "/api/docs" in response["Location"]


def test_employees_who_are_not_admins_get_403_on_the_api_docs(employee, login):
    response = login(employee).get("/api/docs")
    assert response.status_code == 403
    assert b"swagger" not in response.content.lower()


def test_admins_get_the_api_docs_from_local_files_without_inline_script(admin, login):
    response = login(admin).get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert_strict_csp(response)
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts
    for attributes in scripts:
        # Every script is a file of ours, or a JSON data block (never executed).
        assert re.search(r'src="/static/', attributes) or 'type="application/json"' in attributes, attributes
    assert "cdn." not in html
    assert "https://" not in html
    bundle = re.search(r'src="(/static/[^"]+swagger-ui-bundle\.js)"', html).group(1)
    assert Client().get(bundle).status_code == 200


def test_the_openapi_schema_stays_public(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "smishguard API"


# --- the CSP middleware: django-csp's, with the one policy built once -----------------------------------------


def test_the_policy_sent_is_django_csps_own_rendering_of_the_settings(db):
    from csp.utils import build_policy

    sent = Client().get("/signin").headers["Content-Security-Policy"]
    assert directives(sent) == directives(build_policy())


def test_a_view_that_changes_the_policy_or_asks_for_a_nonce_takes_django_csps_own_path():
    from csp.decorators import csp_update
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse
    from django.test import RequestFactory

    from smishguard.web.middleware import ContentSecurityPolicyMiddleware

    @csp_update({"img-src": "data:"})
    def with_images(request):
        return HttpResponse("ok")

    def with_nonce(request):
        return HttpResponse(f"nonce {request.csp_nonce}")

    def plain(request):
        return HttpResponse("ok")

    changed = ContentSecurityPolicyMiddleware(with_images)(RequestFactory().get("/"))
    assert directives(changed.headers["Content-Security-Policy"])["img-src"] == ["'self'", "data:"]

    nonce = ContentSecurityPolicyMiddleware(with_nonce)(RequestFactory().get("/"))
    assert_strict_csp(nonce)

    request = RequestFactory().get("/")
    response = ContentSecurityPolicyMiddleware(plain)(request)
    assert directives(response.headers["Content-Security-Policy"])["img-src"] == ["'self'"]
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # asked for after the header went out: an error, as in django-csp
