"""The Oktapus case in a real browser: a key enrolled on the real site is useless to a lookalike site.

The real site is smishguard at http://login.corp.test:PORT (RP ID corp.test); the lookalike is a page at
http://login-corp.test:PORT2, both mapped to 127.0.0.1 inside chromium.  The lookalike asks the key for an
assertion for the real RP ID (SecurityError: the RP ID is not a suffix of its origin) and for its own RP ID
(NotAllowedError: the key holds no credential for it).
"""

import http.server
import json
import threading

import pytest
from browser import REGISTER_JS, add_virtual_key, chromium
from servers import clean_env, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e


GET_JS = """async (rpId) => {
  try {
    await navigator.credentials.get({publicKey: {
      challenge: new Uint8Array(32), rpId, userVerification: "required", timeout: 5000}});
    return "no error";
  } catch (e) { return e.name; }
}"""


class _Lookalike(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>Corp SSO</title><h1>Sign in to Corp</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_key_enrolled_on_real_origin_is_refused_to_lookalike(tmp_path):
    real_port, fake_port = free_port(), free_port()
    real_origin = f"http://login.corp.test:{real_port}"
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_ORIGIN=real_origin,
        SMISHGUARD_RP_ID="corp.test",
        SMISHGUARD_ALLOWED_HOSTS="login.corp.test,127.0.0.1",
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann")
    token = json.loads(smishguard(env, "employees", "invite", "ann@corp.test", "--json").stdout)["token"]

    lookalike = http.server.ThreadingHTTPServer(("127.0.0.1", fake_port), _Lookalike)
    threading.Thread(target=lookalike.serve_forever, daemon=True).start()
    fake_origin = f"http://login-corp.test:{fake_port}"
    args = [
        "--host-resolver-rules=MAP login.corp.test 127.0.0.1, MAP login-corp.test 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure={real_origin},{fake_origin}",
    ]
    try:
        with gunicorn(env, workers=2, log_dir=tmp_path, port=real_port) as _server, chromium(args) as browser:
            context = browser.new_context()
            page = context.new_page()
            key = add_virtual_key(context, page)
            page.goto(real_origin + "/api/openapi.json")
            result = page.evaluate(REGISTER_JS, token)
            assert result["status"] == 201, result
            creds = key.credentials()
            assert [c["rpId"] for c in creds] == ["corp.test"]

            page.goto(fake_origin + "/")
            assert page.evaluate(GET_JS, "corp.test") == "SecurityError"
            assert page.evaluate(GET_JS, "login-corp.test") == "NotAllowedError"
            # the key did not sign anything for anyone
            assert key.credentials()[0]["signCount"] == creds[0]["signCount"]
    finally:
        lookalike.shutdown()
