"""Rate limits per client address and per account on sign-in, enrolment, token API, Twilio hooks and the portal
report: a 429 with the JSON error shape (an HTML page for pages) and Retry-After, and one audit event per source
and window however many refusals follow."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from softkey import SoftKey

from smishguard.accounts import sessions, tokens
from smishguard.accounts.services import add_employee, invite
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.config import RateLimits
from smishguard.passkeys.models import Challenge

LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"
REGISTER_OPTIONS = "/api/webauthn/register/options"


@pytest.fixture
def limits(settings):
    """Set some rate limits for one test; the others stay far out of reach."""

    def apply(**changes: str) -> None:
        loose = {
            f.name: "100000/m" for f in dataclasses.fields(RateLimits) if f.name.endswith(("_address", "_account"))
        }
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(**{**loose, **changes}))

    return apply


def post_json(client: Client, url: str, body: object, **extra: str):
    extra.setdefault("HTTP_ORIGIN", django_settings.SMISHGUARD.origin)  # the sign-in endpoints take our own origin only
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def assert_refused_json(response) -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 600
    return retry_after


def refusals() -> list[Event]:
    return list(Event.objects.filter(action=Action.REQUEST_RATE_LIMITED).order_by("id"))


# --------------------------------------------------------------------------------------------------------
# Sign-in
# --------------------------------------------------------------------------------------------------------


def test_login_options_past_the_address_limit_get_429_and_write_no_challenge(db, client, limits):
    limits(signin_address="3/m")
    for n in range(3):
        assert post_json(client, LOGIN_OPTIONS, {"email": f"p{n}@example.com"}).status_code == 200
    assert Challenge.objects.count() == 3
    for n in range(5):
        assert_refused_json(post_json(client, LOGIN_OPTIONS, {"email": f"q{n}@example.com"}))
    assert Challenge.objects.count() == 3
    other = Client(REMOTE_ADDR="192.0.2.7")  # another address is not held back
    assert post_json(other, LOGIN_OPTIONS, {"email": "p0@example.com"}).status_code == 200


def test_login_verify_is_limited_per_address(db, client, limits):
    limits(signin_address="2/m")
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    assert post_json(client, LOGIN_VERIFY, junk).status_code == 400
    assert post_json(client, LOGIN_VERIFY, junk).status_code == 400
    before = Event.objects.count()
    assert_refused_json(post_json(client, LOGIN_VERIFY, junk))
    assert_refused_json(post_json(client, LOGIN_VERIFY, junk))
    assert Event.objects.count() == before + 1  # the one refusal event, no SIGNIN_FAILED


def _enrolled(email: str) -> SoftKey:
    employee = add_employee(email=email, name=email.split("@", maxsplit=1)[0].title())
    token = invite(employee).token
    enrolling = Client(REMOTE_ADDR="192.0.2.200")
    key = SoftKey()
    options = post_json(enrolling, REGISTER_OPTIONS, {"token": token}).json()
    registered = post_json(enrolling, "/api/webauthn/register/verify", {**key.register(options), "token": token})
    assert registered.status_code == 201, registered.content
    return key


def _sign_in(client: Client, key: SoftKey, email: str):
    options = post_json(client, LOGIN_OPTIONS, {"email": email})
    assert options.status_code == 200, options.content
    return post_json(client, LOGIN_VERIFY, key.assertion(options.json()))


def test_a_successful_login_verify_is_not_counted_a_failed_one_is(db, client, limits):
    key = _enrolled("ada@example.com")
    limits(signin_address="3/m")
    for _ in range(3):  # three whole sign-ins: only their three options calls count
        assert _sign_in(client, key, "ada@example.com").status_code == 200
        client.cookies.clear()
    assert_refused_json(post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"}))
    other = Client(REMOTE_ADDR="192.0.2.8")
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    for _ in range(3):  # failures count
        assert post_json(other, LOGIN_VERIFY, junk).status_code == 400
    assert_refused_json(post_json(other, LOGIN_VERIFY, junk))
    assert post_json(other, LOGIN_OPTIONS, {"email": "ada@example.com"}).status_code == 200  # a budget of its own


def test_failures_are_counted_after_they_fail_and_never_refuse_a_correct_key(db, limits):
    """login/verify is counted after it fails: a run of failures from one address gets 429s, each failure with a
    challenge uses that challenge up (so the failures recorded against a real key are held to login/options'
    limits), and a correct assertion from the same address still signs in."""
    key = _enrolled("ada@example.com")
    limits(signin_address="3/m")
    client = Client(REMOTE_ADDR="192.0.2.9")
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    for _ in range(3):
        assert post_json(client, LOGIN_VERIFY, junk).status_code == 400
    assert_refused_json(post_json(client, LOGIN_VERIFY, junk))  # the fourth failure is answered 429
    options = post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"})
    assert options.status_code == 200  # login/options has a budget of its own
    forged = key.assertion(options.json())
    forged["response"] = {**forged["response"], "signature": forged["response"]["signature"][:-4] + "AAAA"}
    assert_refused_json(post_json(client, LOGIN_VERIFY, forged))
    assert_refused_json(post_json(client, LOGIN_VERIFY, key.assertion(options.json())))  # used up: a failure
    options = post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"})
    signed_in = post_json(client, LOGIN_VERIFY, key.assertion(options.json()))
    assert signed_in.status_code == 200, signed_in.content


@pytest.fixture
def database_counters(settings):
    """The rate limits counted in the database, in either mode (production mode counts them in Redis, whose
    own tests are tests/ratelimits/test_ratelimits_redis.py): for the tests of the database statements."""
    settings.CACHES = {**settings.CACHES, "ratelimit": {"BACKEND": "smishguard.ratelimits.cache.CounterCache"}}


def test_a_successful_sign_in_makes_one_counter_statement(db, client, limits, database_counters):
    """login/options counts the address and the email in one statement; a successful login/verify makes no
    counter statement at all (it is counted only when it fails)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = _enrolled("ada@example.com")
    limits(signin_address="50/m", signin_account="50/m")
    with CaptureQueriesContext(connection) as queries:
        options = post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"})
        assert post_json(client, LOGIN_VERIFY, key.assertion(options.json())).status_code == 200
    counting = [q["sql"] for q in queries.captured_queries if "ratelimits_counter" in q["sql"]]
    assert len(counting) == 1
    assert counting[0].startswith("INSERT INTO ratelimits_counter")  # login/options' one upsert


def test_the_per_account_limit_treats_unknown_emails_exactly_like_real_ones(db, limits):
    limits(signin_account="2/m")
    ada = add_employee(email="ada@example.com", name="Ada")
    token = invite(ada).token
    enrolling = Client(REMOTE_ADDR="192.0.2.200")
    options = post_json(enrolling, REGISTER_OPTIONS, {"token": token}).json()
    registered = post_json(enrolling, "/api/webauthn/register/verify", {**SoftKey().register(options), "token": token})
    assert registered.status_code == 201, registered.content
    answers = {}
    for email in ("ada@example.com", "nobody@example.com"):
        seen = []
        for n in range(4):  # from four different addresses: the account's own limit holds them back
            response = post_json(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), LOGIN_OPTIONS, {"email": email})
            seen.append(response.status_code)
            if response.status_code == 429:
                assert_refused_json(response)
                # (the wait differs by email, not by whether it exists: django-ratelimit staggers each key's windows)
                seen.append(response.json()["error"]["code"])
        answers[email] = seen
    assert answers["ada@example.com"] == answers["nobody@example.com"]
    assert answers["ada@example.com"][:2] == [200, 200]
    # the address of a colleague behind the same NAT is not refused for another account
    assert post_json(Client(REMOTE_ADDR="198.51.100.1"), LOGIN_OPTIONS, {"email": "bob@example.com"}).status_code == 200


# --------------------------------------------------------------------------------------------------------
# Enrolment
# --------------------------------------------------------------------------------------------------------


def test_register_endpoints_are_limited_per_address(db, client, limits):
    limits(enrol_address="2/m")
    for _ in range(2):
        assert post_json(client, REGISTER_OPTIONS, {"token": "no-such-token"}).status_code in (400, 404, 410)
    assert_refused_json(post_json(client, REGISTER_OPTIONS, {"token": "no-such-token"}))
    assert_refused_json(post_json(client, "/api/webauthn/register/verify", {}))


def test_the_enrolment_page_is_limited_per_link_with_an_html_page(db, limits):
    limits(enrol_account="2/m")
    token = invite(add_employee(email="new@example.com", name="New")).token
    for n in range(2):
        assert Client(REMOTE_ADDR=f"203.0.113.{n + 1}").get(f"/enrol/{token}").status_code == 200
    response = Client(REMOTE_ADDR="203.0.113.9").get(f"/enrol/{token}")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"Too many requests" in response.content
    assert token.encode() not in response.content


def test_the_enrolment_page_is_limited_per_address(db, client, limits):
    limits(enrol_address="2/m")
    for n in range(2):
        assert client.get(f"/enrol/guess-{n}").status_code in (400, 404, 410)
    response = client.get("/enrol/guess-9")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) >= 1
    (refusal,) = refusals()
    assert refusal.detail["path"] == "/enrol/[redacted]", "the audit trail keeps no link's token, not even a guess"


# --------------------------------------------------------------------------------------------------------
# Token-authenticated API (and not the gateway's /api/authz/*)
# --------------------------------------------------------------------------------------------------------


def test_token_api_is_limited_per_address_before_authentication(db, client, limits):
    limits(api_address="3/m")
    for _ in range(3):
        assert client.get("/api/blocklists").status_code == 401
    assert_refused_json(client.get("/api/blocklists"))
    assert_refused_json(post_json(client, "/api/scan", {"text": "hi"}))
    assert_refused_json(client.get("/api/stix/campaigns"))
    assert_refused_json(post_json(client, "/api/reports", {"text": "hi"}))


def test_token_api_is_limited_per_token_across_addresses(db, limits):
    limits(api_account="2/m")
    _, secret = tokens.issue("resolver", scopes=["blocklists"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert Client(REMOTE_ADDR="192.0.2.1").get("/api/blocklists", **auth).status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.2").get("/api/blocklists", **auth).status_code == 200
    assert_refused_json(Client(REMOTE_ADDR="192.0.2.3").get("/api/blocklists", **auth))
    _, other = tokens.issue("another", scopes=["blocklists"])
    other_auth = {"HTTP_AUTHORIZATION": f"Bearer {other}"}
    assert Client(REMOTE_ADDR="192.0.2.3").get("/api/blocklists", **other_auth).status_code == 200


def test_the_gateway_authz_paths_are_not_limited_here(db, client, limits):
    limits(api_address="1/m", signin_address="1/m", enrol_address="1/m")
    for _ in range(5):
        assert client.get("/api/authz/nginx").status_code == 404
    assert not refusals()


# --------------------------------------------------------------------------------------------------------
# Twilio webhooks and the portal report
# --------------------------------------------------------------------------------------------------------


def test_twilio_webhooks_are_limited_per_address(db, client, limits):
    limits(twilio_address="2/m")
    form = "From=%2B15550001&MessageSid=SM1&Body=hi"
    for _ in range(2):
        response = client.post("/hooks/twilio/sms", form, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 403
    response = client.post("/hooks/twilio/status", form, content_type="application/x-www-form-urlencoded")
    assert_refused_json(response)


def test_the_portal_report_is_limited_per_employee_with_an_html_page(db, limits):
    limits(report_account="2/m")
    carl = add_employee(email="carl@example.com", name="Carl")
    for n in range(3):
        client = Client(REMOTE_ADDR=f"192.0.2.{n + 10}")
        token, _ = sessions.create(carl, request=RequestFactory().post("/api/webauthn/login/verify"))
        client.cookies[django_settings.SESSION_COOKIE_NAME] = token
        response = client.post("/portal/report", {"text": f"Your parcel {n} is held: pay at http://x.example"})
        if n < 2:
            assert response.status_code != 429
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) >= 1


# --------------------------------------------------------------------------------------------------------
# The audit trail: one event per source and window, the count carried on the next
# --------------------------------------------------------------------------------------------------------


def test_repeated_refusals_are_one_audit_event_per_source_and_window(db, client, limits, time_machine):
    time_machine.move_to("2026-03-02T09:00:00Z", tick=False)
    limits(signin_address="2/m")
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    for _ in range(2):
        post_json(client, LOGIN_VERIFY, junk)
    start = Event.objects.count()
    for _ in range(20):
        assert_refused_json(post_json(client, LOGIN_VERIFY, junk))
    assert Event.objects.count() == start + 1
    (first,) = refusals()
    assert first.actor_label == "anonymous"
    assert first.ip == "127.0.0.1"
    assert first.detail["limit"] == 2
    assert first.detail["window_seconds"] == 60
    assert first.detail["by"] == "address"
    assert first.detail["group"] == "signin"
    assert first.detail["earlier_refusals"] == 0

    time_machine.move_to("2026-03-02T09:01:05Z", tick=False)  # the next window
    for _ in range(2):
        post_json(client, LOGIN_VERIFY, junk)
    for _ in range(3):
        assert_refused_json(post_json(client, LOGIN_VERIFY, junk))
    first_again, second = refusals()
    assert first_again.pk == first.pk
    # the 19 refusals of the first window that had no event of their own are counted on the next one
    assert second.detail["earlier_refusals"] == 19


# --------------------------------------------------------------------------------------------------------
# One statement on the sign-in path, the same keys as django-ratelimit's get_usage; any other cache works too
# --------------------------------------------------------------------------------------------------------


def test_the_one_statement_path_counts_the_keys_django_ratelimit_counts(db, client, limits):
    from django_ratelimit.core import get_usage

    limits(signin_address="50/m", signin_account="50/m")
    for _ in range(3):
        assert post_json(client, LOGIN_OPTIONS, {"email": " Ada@Example.com"}).status_code == 200
    request = RequestFactory().post(LOGIN_OPTIONS, REMOTE_ADDR="127.0.0.1")
    by_address = get_usage(request, group="signin:address", key="ip", rate=(50, 60))
    by_account = get_usage(request, group="signin:account", key=lambda _g, _r: "ada@example.com", rate=(50, 60))
    assert by_address["count"] == 3
    assert by_account["count"] == 3


def test_sign_in_counts_both_limits_in_one_statement(db, client, limits, database_counters):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    limits(signin_address="50/m", signin_account="50/m")
    with CaptureQueriesContext(connection) as queries:
        assert post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"}).status_code == 200
    counting = [q["sql"] for q in queries.captured_queries if "ratelimits_counter" in q["sql"]]
    assert len(counting) == 1


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded"),
    [
        ((), "198.51.100.4", None),
        ((), "2001:db8:1:2:3:4:5:6", None),  # IPv6: the /64 django-ratelimit masks it to
        ((), "::ffff:198.51.100.4", None),
        (("10.0.0.0/8",), "10.0.0.2", "1.2.3.4, 2001:db8::5"),  # behind a trusted proxy: the forwarded client
        (("10.0.0.0/8",), "10.0.0.2", "203.0.113.9"),
    ],
)
def test_the_address_counted_is_django_ratelimits_own(settings, trusted, peer, forwarded):
    """limit_address works out the mask once per address; it must give what django-ratelimit's _get_ip gives
    (and so the keys its get_usage counts), twice in a row (the second from the cache) and whatever the masks."""
    from django_ratelimit.core import _get_ip

    from smishguard.accounts.throttle import limit_address

    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, trusted_proxies=trusted)
    extra = {"REMOTE_ADDR": peer} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    request = RequestFactory().post(LOGIN_OPTIONS, **extra)
    assert limit_address(request) == limit_address(request) == _get_ip(request)
    settings.RATELIMIT_IPV4_MASK, settings.RATELIMIT_IPV6_MASK = 24, 48
    assert limit_address(request) == _get_ip(request)


def test_with_the_limits_off_nothing_is_counted_or_read(db, client, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, rate_limits=dataclasses.replace(RateLimits(), enabled=False, signin_account="1/m")
    )
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"}).status_code == 200
            assert post_json(client, LOGIN_VERIFY, junk).status_code == 400
    assert not [q["sql"] for q in queries.captured_queries if "ratelimits_counter" in q["sql"]]


def test_any_other_django_cache_counts_through_get_usage(db, client, limits, settings):
    from django.core.cache import caches

    settings.CACHES = {**settings.CACHES, "other": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.RATELIMIT_USE_CACHE = "other"
    caches["other"].clear()
    limits(signin_account="2/m")
    for _ in range(2):
        assert post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"}).status_code == 200
    assert_refused_json(post_json(client, LOGIN_OPTIONS, {"email": "ada@example.com"}))
    junk = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    for _ in range(2):  # login/verify is counted when it fails, through get_usage too
        assert post_json(client, LOGIN_VERIFY, junk).status_code == 400
    assert_refused_json(post_json(client, LOGIN_VERIFY, junk))


def test_the_example_config_shows_the_default_limits(monkeypatch):
    from pathlib import Path

    from smishguard.config import load

    monkeypatch.delenv("SMISHGUARD_TRUSTED_PROXIES", raising=False)
    example = load(Path(__file__).resolve().parents[2] / "deploy" / "smishguard.toml")
    assert example.rate_limits == RateLimits()
    assert example.trusted_proxies == ("127.0.0.1/32",)
