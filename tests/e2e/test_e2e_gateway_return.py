"""Issue 14 in a real browser: a protected app on a sibling host, the sign-in page's rd, the parent-domain cookie.

smishguard serves on http://auth.corp.test:PORT (RP ID corp.test, ``SMISHGUARD_COOKIE_DOMAIN=.corp.test``); a
small app on http://app.corp.test:PORT2 asks smishguard's ``/api/authz/auth-request`` about every request, as
nginx's ``auth_request`` would (the real nginx in front of the sample app is a later step): on 401 it redirects
to the answer's ``Location``, on 200 it shows ``Remote-User``.  Distinct host names (chromium's
``--host-resolver-rules``), never localhost ports, which share cookies and would hide the problem.  The browser
opens the app, is sent to the sign-in page with ``rd``, signs in with the virtual key on that page, and comes back
to the original URL, where the app now sees the employee: the session cookie reached the app's host."""

import http.client
import http.server
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import REGISTER_JS, add_virtual_key, chromium
from servers import clean_env, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e

POLICY = """
[gateway]
[[gateway.rules]]
domain = "app.corp.test"
policy = "signed_in"
"""


def app_handler(check_port: int, app_origin: str) -> type[http.server.BaseHTTPRequestHandler]:
    class _App(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            connection = http.client.HTTPConnection("127.0.0.1", check_port, timeout=30)
            headers = {"X-Original-Method": "GET", "X-Original-URL": app_origin + self.path}
            if self.headers.get("Cookie"):
                headers["Cookie"] = self.headers["Cookie"]
            connection.request("GET", "/api/authz/auth-request", headers=headers)
            answer = connection.getresponse()
            answer.read()
            connection.close()
            if answer.status == 401 and answer.getheader("Location"):
                self.send_response(302)
                self.send_header("Location", answer.getheader("Location"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if answer.status != 200:
                body = f"refused {answer.status} {answer.getheader('X-Smishguard-Reason')}".encode()
                self.send_response(answer.status)
            else:
                body = f"<!doctype html><title>app</title><p id=who>{answer.getheader('Remote-User')}</p>".encode()
                self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return _App


def test_the_sign_in_returns_to_the_protected_app_which_receives_the_session(tmp_path):
    auth_port, app_port = free_port(), free_port()
    auth_origin = f"http://auth.corp.test:{auth_port}"
    app_origin = f"http://app.corp.test:{app_port}"
    config = tmp_path / "smishguard.toml"
    config.write_text(POLICY)
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_ORIGIN=auth_origin,
        SMISHGUARD_RP_ID="corp.test",
        SMISHGUARD_ALLOWED_HOSTS="auth.corp.test,127.0.0.1",
        SMISHGUARD_COOKIE_DOMAIN=".corp.test",
        SMISHGUARD_CONFIG=str(config),
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann")
    token = json.loads(smishguard(env, "employees", "invite", "ann@corp.test", "--json").stdout)["token"]

    app = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), app_handler(auth_port, app_origin))
    threading.Thread(target=app.serve_forever, daemon=True).start()
    args = [
        "--host-resolver-rules=MAP auth.corp.test 127.0.0.1, MAP app.corp.test 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure={auth_origin},{app_origin}",
    ]
    original = app_origin + "/customers/42?tab=notes"
    try:
        with gunicorn(env, workers=2, log_dir=tmp_path, port=auth_port) as _server, chromium(args) as browser:
            context = browser.new_context()
            page = context.new_page()
            add_virtual_key(context, page)
            page.goto(auth_origin + "/api/openapi.json")
            result = page.evaluate(REGISTER_JS, token)
            assert result["status"] == 201, result

            page.goto(original)  # no session yet: the app sends the browser to the sign-in page
            at = urlsplit(page.url)
            assert f"{at.scheme}://{at.netloc}{at.path}" == auth_origin + "/signin"
            assert parse_qs(at.query)["rd"] == [original]
            assert parse_qs(at.query)["rm"] == ["GET"]

            page.fill("input[name=email]", "ann@corp.test")
            with page.expect_navigation(url=original, timeout=60_000):
                page.click("button[type=submit]")
            assert page.url == original
            assert page.text_content("#who") == "ann@corp.test"
            cookie = next(c for c in context.cookies() if c["name"] == "sg_session")
            assert cookie["domain"] == ".corp.test"
            assert cookie["httpOnly"] is True
    finally:
        app.shutdown()
