"""The customer console (examples/customer_console): its demo data, and its check of smishguard's identity
assertion with an ES256 key and a JWKS made here, as smishguard publishes them (the signing side lives in
smishguard's gateway; this is the app's side of the contract)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from wsgiref.util import setup_testing_defaults

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from examples.customer_console import CustomerConsole, KeySet, Unverified, Verifier, customers
from examples.customer_console.assertion import JWKS_PATH

SMISHGUARD = "https://auth.corp.test"
APP = "https://customers.corp.test"


def b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


class Signer:
    """An ES256 signing key and its JWK, as smishguard would publish it."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwk(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(numbers.x),
            "y": b64(numbers.y),
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
        }

    def token(self, *, header: dict | None = None, algorithm: str = "ES256", key=None, **claims) -> str:
        now = int(time.time())
        body = {
            "iss": SMISHGUARD,
            "aud": APP,
            "sub": "ann@corp.test",
            "email": "ann@corp.test",
            "groups": ["customer-data", "support"],
            "amr": ["hwk", "user"],
            "auth_time": now - 30,
            "iat": now,
            "exp": now + 60,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm=algorithm, headers={"kid": self.kid, **(header or {})})


class Published:
    """smishguard's JWKS as a fetch function: what it serves now, and how often it was asked."""

    def __init__(self, *signers: Signer) -> None:
        self.signers = list(signers)
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return json.dumps({"keys": [s.jwk() for s in self.signers]}).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def problem(check: Verifier, token: str | None) -> str:
    with pytest.raises(Unverified) as caught:
        check.verify(token)
    return str(caught.value)


def verifier(published: Published, clock: Clock | None = None) -> Verifier:
    return Verifier.for_origins(
        smishguard_origin=SMISHGUARD + "/", app_origin=APP, fetch=published, clock=clock or Clock()
    )


def test_a_good_assertion_gives_the_identity_and_the_keys_are_fetched_once():
    signer = Signer("k1")
    published = Published(signer)
    check = verifier(published)
    for _ in range(3):
        who = check.verify(signer.token())
        assert (who.sub, who.email, who.groups, who.amr) == (
            "ann@corp.test",
            "ann@corp.test",
            ("customer-data", "support"),
            ("hwk", "user"),
        )
        assert who.key_kind == "a hardware security key"
    assert published.urls == [SMISHGUARD + JWKS_PATH]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"aud": "https://other.corp.test"}, "issued for another app (aud)"),
        ({"iss": "https://evil.example"}, "issued by someone else (iss)"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"sub": None}, "refused: MissingRequiredClaimError"),
        ({"exp": None}, "refused: MissingRequiredClaimError"),
        ({"groups": "support"}, "groups is not a list of names"),
        ({"amr": "hwk"}, "amr is not a list of methods"),
    ],
    ids=["audience", "issuer", "expired", "no-sub", "no-exp", "groups-string", "amr-string"],
)
def test_claims_that_do_not_hold_are_refused(change, problem):
    signer = Signer("k1")
    with pytest.raises(Unverified, match=f"^{problem.replace('(', '.').replace(')', '.')}$"):
        verifier(Published(signer)).verify(signer.token(**change))


def test_a_forged_signature_another_algorithm_and_none_are_refused():
    signer, stranger = Signer("k1"), Signer("k1")  # the stranger claims smishguard's kid
    check = verifier(Published(signer))
    assert problem(check, stranger.token()) == "bad signature"
    assert problem(check, signer.token(algorithm="HS256", key="x" * 32)) == "algorithm 'HS256', not ES256"
    unsigned = jwt.encode({"sub": "ann@corp.test", "iss": SMISHGUARD, "aud": APP}, None, algorithm="none")
    assert problem(check, unsigned) == "algorithm 'none', not ES256"
    good = signer.token()
    head, body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["email"] = "mallory@corp.test"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert problem(check, f"{head}.{tampered}.{sig}") == "bad signature"
    for missing in (None, "", "not-a-jwt", "a.b.c"):
        with pytest.raises(Unverified):
            check.verify(missing)
    assert problem(check, signer.token(header={"crit": ["exp"]}))  # PyJWT refuses an unknown "crit" itself


def test_an_unknown_kid_fetches_the_keys_again_at_most_once_per_interval():
    old, new = Signer("k-old"), Signer("k-new")
    published = Published(old)
    clock = Clock()
    check = verifier(published, clock)
    assert check.verify(old.token()).email == "ann@corp.test"
    published.signers.append(new)  # smishguard rotated: the new key is published beside the old one
    clock.now += 31
    assert check.verify(new.token()).email == "ann@corp.test"
    assert len(published.urls) == 2
    # A made-up kid right after a fetch does not make another one (a flood of them cannot).
    for _ in range(5):
        assert problem(check, Signer("made-up").token()) == "signed with a key smishguard does not publish"
    assert len(published.urls) == 2
    clock.now += 31
    with pytest.raises(Unverified):
        check.verify(Signer("made-up").token())
    assert len(published.urls) == 3


def test_an_unreachable_or_broken_key_set_leaves_the_person_unverified():
    signer = Signer("k1")
    asked = []

    def down(url: str) -> bytes:
        asked.append(url)
        raise OSError("connection refused")

    clock = Clock()
    keys = KeySet(SMISHGUARD + JWKS_PATH, fetch=down, clock=clock)
    check = Verifier(issuer=SMISHGUARD, audience=APP, keys=keys)
    for _ in range(3):  # not one fetch (and its timeout) per request while smishguard is down
        with pytest.raises(Unverified, match="could not be fetched"):
            check.verify(signer.token())
    assert len(asked) == 1
    clock.now += 6
    with pytest.raises(Unverified, match="could not be fetched"):
        check.verify(signer.token())
    assert len(asked) == 2
    junk = KeySet(SMISHGUARD + JWKS_PATH, fetch=lambda _url: b"{not json")
    with pytest.raises(Unverified, match="could not be fetched"):
        Verifier(issuer=SMISHGUARD, audience=APP, keys=junk).verify(signer.token())
    # Keys of another type or curve are not used.
    odd = {"keys": [{**signer.jwk(), "crv": "P-384"}, {"kty": "RSA", "kid": "k1"}]}
    other = KeySet(SMISHGUARD + JWKS_PATH, fetch=lambda _url: json.dumps(odd).encode())
    with pytest.raises(Unverified, match="does not publish"):
        Verifier(issuer=SMISHGUARD, audience=APP, keys=other).verify(signer.token())


def call(app, path: str, query: str = "", **headers: str) -> tuple[str, dict, str]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": query}
    setup_testing_defaults(environ)
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, dict(response_headers)

    body = b"".join(app(environ, start_response)).decode()
    return seen["status"], seen["headers"], body


def test_the_banner_names_only_a_verified_person_and_marks_remote_user_unverified():
    signer = Signer("k1")
    app = CustomerConsole(verifier(Published(signer)))
    status, headers, body = call(app, "/customers/1042", x_smishguard_assertion=signer.token(), remote_user="x")
    assert status == "200 OK"
    assert "<span id=who-state>Verified</span> <strong id=who>ann@corp.test</strong>" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    status, _, body = call(app, "/customers/1042", remote_user="<b>ann@corp.test</b>")
    assert "<span id=who-state>Not verified</span>" in body
    assert "(no assertion)" in body
    assert "<code id=remote-user>&lt;b&gt;ann@corp.test&lt;/b&gt;</code> (unverified: not trusted)" in body
    _, _, body = call(app, "/customers/1042", x_smishguard_assertion=Signer("k1").token())
    assert "(bad signature)" in body


def test_the_demo_data_is_a_thousand_customers_the_same_on_every_run():
    everyone = customers.all_customers()
    assert len(everyone) == 1000
    assert len({c.id for c in everyone}) == 1000
    assert customers.get("1001").name == everyone[0].name
    assert customers.get("2000") is not None
    assert customers.get("1000") is None
    assert customers.pages(50) == 20
    assert len(customers.page(20, 50)) == 50
    assert customers.page(21, 50) == ()
    app = CustomerConsole(verifier(Published(Signer("k1"))))
    status, _, body = call(app, "/customers", query="page=3")
    assert status == "200 OK"
    assert "Page 3 of 20" in body
    assert f'href="/customers/{customers.page(3, 50)[0].id}"' in body
    assert call(app, "/customers/1")[0] == "404 Not Found"
    status, headers, body = call(app, "/customers/1500/export")
    assert (status, headers["Content-Type"]) == ("200 OK", "text/csv")
    assert body.startswith('id,name,company,email,phone,city\n"1500",')


def test_the_key_set_is_fetched_over_http_from_the_jwks_url():
    signer = Signer("k1")
    body = json.dumps({"keys": [signer.jwk()]}).encode()
    seen = []

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200 if self.path == JWKS_PATH else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        token = signer.token(iss=origin)
        assert Verifier.for_origins(smishguard_origin=origin, app_origin=APP).verify(token).email == "ann@corp.test"
        assert seen == [JWKS_PATH]
        elsewhere = KeySet(origin + "/nothing-here.json")
        assert problem(Verifier(issuer=origin, audience=APP, keys=elsewhere), token).startswith(
            "smishguard's key set could not be fetched"
        )
        ftp = KeySet("ftp://127.0.0.1/jwks.json")
        assert problem(Verifier(issuer=origin, audience=APP, keys=ftp), token).startswith("the key set's address")
    finally:
        server.shutdown()
