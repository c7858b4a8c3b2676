"""Every page the screenshot script shows, in a real chromium: the security headers are there and strict, and the
browser reports no Content-Security-Policy violation and no complaint about the Permissions-Policy.

The script itself is driven (scripts/screenshots.py --security-report), so the pages checked are exactly the
pages it visits: sign-in, enrolment with a virtual key and a real sign-in, the used-link and not-found pages,
the portal as an employee (and the console's 403 page), every console page as an admin, the API documentation,
the portal's report form, and the awareness pages (training and its quiz, the console's modules, compliance,
simulations and results, a drill's sign-in page and lesson).  The script's own checks (the enrolment and sign-in
succeed, the new token is shown, the verdict appears, Swagger UI renders, the quiz's result and the drill's lesson
are reached) must pass too: a page that a policy broke fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from servers import clean_env

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "*", "data:", "http:", "https:")
# Page kinds that must stay in the script's list (a trimmed script would quietly check less).
KINDS = {
    "signin",
    "not-found",
    "enrol",
    "enrol-done",
    "enrol-used",
    "portal-first-signin",
    "portal-overview",
    "portal-keys",
    "portal-sessions",
    "console-forbidden",
    "api-docs-forbidden",
    "console-employees",
    "console-employee",
    "console-coverage",
    "console-audit",
    "console-tokens",
    "console-campaign",
    "console-watch",
    "console-incidents",  # the breach scope: its server-drawn SVG chart under the CSP
    "api-docs",
    "portal-report-result",
    # awareness (issue 16): the employee's training, the console's pages, a drill's tracked link and its lesson
    "portal-learn",
    "portal-learn-module",
    "portal-learn-quiz",
    "portal-learn-result",  # after a real quiz POST
    "console-training-modules",
    "console-training-compliance",
    "console-training-simulations",
    "console-training-simulation",
    "console-training-results",  # its server-drawn SVG trend chart
    "drill-signin",
    "drill-lesson",
    "phone-drill-lesson",  # after a submit (a POST to /s/<rid>, outside the CSRF middleware)
}


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("shots")
    env = clean_env(tmp / "unused")  # the script makes its own data folder and origin
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(tmp / "png"),
         "--security-report", str(tmp / "report.json")],
        env=env, capture_output=True, text=True, timeout=900, check=False, cwd=tmp,
    )  # fmt: skip
    report = json.loads((tmp / "report.json").read_text())  # written even when a step failed
    report["run"] = {"status": result.returncode, "output": result.stdout[-3000:] + result.stderr[-5000:]}
    return report


def test_every_page_still_works(report):
    # The script's own checks: enrolment and sign-in with the virtual key, forms, Swagger UI rendering.
    assert report["run"]["status"] == 0, report["run"]["output"]


def test_every_kind_of_page_is_visited(report):
    names = {shot["name"] for shot in report["shots"]}
    assert names >= KINDS, sorted(KINDS - names)
    assert len(report["documents"]) >= len(report["shots"])


def test_no_page_reports_a_policy_violation(report):
    assert report["violations"] == []
    assert report["console"] == []


def test_every_page_sends_a_strict_content_security_policy(report):
    for doc in report["documents"]:
        headers = doc["headers"]
        assert "content-security-policy" in headers, doc
        policy = directives(headers["content-security-policy"])
        for name, sources in policy.items():
            assert not set(sources) & set(UNSAFE), (doc["url"], name, sources)
        assert policy["default-src"] == ["'self'"]
        assert policy.get("script-src", ["'self'"]) == ["'self'"], doc["url"]
        assert policy.get("style-src", ["'self'"]) == ["'self'"], doc["url"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] in (["'none'"], ["'self'"])
        assert policy["form-action"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]


def test_every_page_sends_a_permissions_policy_that_keeps_webauthn(report):
    for doc in report["documents"]:
        header = doc["headers"].get("permissions-policy", "")
        features = dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item)
        for denied in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features.get(denied) == "()", (doc["url"], denied, header)
        assert features.get("publickey-credentials-get") == "(self)", (doc["url"], header)
        assert features.get("publickey-credentials-create") == "(self)", (doc["url"], header)


def test_no_hsts_on_a_plain_http_origin(report):
    # The script serves http://localhost:PORT: a Strict-Transport-Security header there would be wrong (and
    # ignored); tests/web/test_web_security_headers.py checks that an https origin gets one.
    for doc in report["documents"]:
        assert "strict-transport-security" not in doc["headers"], doc
