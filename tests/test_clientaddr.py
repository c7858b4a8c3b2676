"""The client address: X-Forwarded-For and X-Forwarded-Proto count only when the direct peer is a trusted proxy,
for rate limits and the audit trail alike (``trusted_proxies``, which replaces SMISHGUARD_BEHIND_PROXY)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.test import Client, RequestFactory
from servers import clean_env, django_eval, smishguard

from smishguard import clientaddr
from smishguard.audit import Action, record
from smishguard.config import ConfigError, RateLimits, load


@pytest.fixture
def trust(settings):
    def apply(*cidrs: str) -> None:
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, trusted_proxies=cidrs)
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if cidrs else None

    return apply


def _request(peer: str, forwarded: str | None = None, proto: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    if proto is not None:
        extra["HTTP_X_FORWARDED_PROTO"] = proto
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ((), "198.51.100.4", "203.0.113.9", "198.51.100.4"),  # no proxy trusted: the header is ignored
        (("10.0.0.0/8",), "198.51.100.4", "203.0.113.9", "198.51.100.4"),  # the peer is not a trusted proxy
        (("10.0.0.0/8",), "10.0.0.2", "203.0.113.9", "203.0.113.9"),
        # the right-most address that is not a trusted proxy: what the client put on the left is not believed
        (("10.0.0.0/8",), "10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (("10.0.0.0/8", "::1/128"), "::1", "2001:db8::5", "2001:db8::5"),
        (("10.0.0.0/8",), "10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),  # all trusted: the left-most
        (("10.0.0.0/8",), "10.0.0.2", "", "10.0.0.2"),
        (("10.0.0.0/8",), "10.0.0.2", "not-an-address", "10.0.0.2"),  # garbage: the proxy that sent it
    ],
)
def test_client_address(trust, trusted, peer, forwarded, expected):
    trust(*trusted)
    assert clientaddr.client_ip(_request(peer, forwarded)) == expected


def test_the_audit_trail_records_the_same_address(db, trust):
    trust("10.0.0.0/8")
    event = record(Action.AUDIT_EXPORTED, request=_request("10.0.0.2", "1.2.3.4, 203.0.113.9"))
    assert event.ip == "203.0.113.9"
    event = record(Action.AUDIT_EXPORTED, request=_request("198.51.100.4", "203.0.113.9"))
    assert event.ip == "198.51.100.4"


def test_forwarded_proto_counts_only_from_a_trusted_proxy(trust):
    trust("10.0.0.0/8")
    seen = []
    middleware = clientaddr.ForwardedHeadersMiddleware(lambda request: seen.append(request.is_secure()))
    middleware(_request("198.51.100.4", "203.0.113.9", proto="https"))
    middleware(_request("10.0.0.2", "203.0.113.9", proto="https"))
    assert seen == [False, True]


def test_dropped_forwarding_headers_stay_readable_as_sent_for_a_caller_with_its_own_list(trust):
    """The gateway's checks trust their peer by ``[gateway] trusted_proxies``: what the middleware dropped for
    an untrusted peer is still there for them (clientaddr.header_as_sent), and nowhere else."""
    trust("10.0.0.0/8")
    seen = []

    def view(request):
        seen.append(
            (
                request.META.get("HTTP_X_FORWARDED_PROTO"),
                clientaddr.header_as_sent(request, "HTTP_X_FORWARDED_PROTO"),
                clientaddr.client_ip(request),
            )
        )

    middleware = clientaddr.ForwardedHeadersMiddleware(view)
    middleware(_request("198.51.100.4", "203.0.113.9", proto="https"))
    middleware(_request("10.0.0.2", "203.0.113.9", proto="https"))
    middleware(_request("198.51.100.4"))
    assert seen == [
        (None, "https", "198.51.100.4"),
        ("https", "https", "203.0.113.9"),
        (None, None, "198.51.100.4"),
    ]


def test_rate_limits_count_the_client_behind_a_trusted_proxy_not_a_forged_header(db, trust, settings):
    trust("10.0.0.0/8")
    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, rate_limits=dataclasses.replace(RateLimits(), signin_address="1/m")
    )

    def options(peer: str, forwarded: str) -> int:
        client = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
        body = json.dumps({"email": "x@example.com"})
        return client.post("/api/webauthn/login/options", body, content_type="application/json").status_code

    assert options("10.0.0.2", "203.0.113.1") == 200
    assert options("10.0.0.2", "203.0.113.2") == 200  # another client behind the same proxy
    assert options("10.0.0.2", "203.0.113.1") == 429
    assert options("198.51.100.4", "203.0.113.77") == 200  # an untrusted peer is counted by its own address ...
    assert options("198.51.100.4", "203.0.113.78") == 429  # ... whatever it forges


def test_trusted_proxies_from_toml_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("SMISHGUARD_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("SMISHGUARD_BEHIND_PROXY", raising=False)
    path = tmp_path / "smishguard.toml"
    path.write_text('trusted_proxies = ["127.0.0.1/32", "10.1.0.0/16"]\n')
    assert load(path).trusted_proxies == ("127.0.0.1/32", "10.1.0.0/16")
    monkeypatch.setenv("SMISHGUARD_TRUSTED_PROXIES", "192.0.2.10, ::1")
    assert load(path).trusted_proxies == ("192.0.2.10/32", "::1/128")
    assert load(None).trusted_proxies == ("192.0.2.10/32", "::1/128")
    monkeypatch.delenv("SMISHGUARD_TRUSTED_PROXIES")
    assert load(None).trusted_proxies == ()


def test_a_bad_trusted_proxy_is_one_readable_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SMISHGUARD_TRUSTED_PROXIES", "10.0.0.0/8, nginx.local")
    with pytest.raises(ConfigError, match=r"trusted_proxies: 'nginx.local' is not an IP address or CIDR"):
        load(None)


def test_rate_limits_in_toml_are_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("SMISHGUARD_TRUSTED_PROXIES", raising=False)
    path = tmp_path / "smishguard.toml"
    path.write_text('[rate_limits]\nsignin_account = "10/5m"\n')
    assert load(path).rate_limits.rate("signin", "account") == (10, 300)
    path.write_text('[rate_limits]\nsignin_account = "ten a minute"\n')
    with pytest.raises(ConfigError, match=r"\[rate_limits\] signin_account"):
        load(path)


def test_behind_proxy_is_refused_with_one_line_pointing_to_trusted_proxies(tmp_path):
    env = clean_env(tmp_path / "var", SMISHGUARD_BEHIND_PROXY="true")
    result = smishguard(env, "employees", "list", check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("smishguard: error: SMISHGUARD_BEHIND_PROXY is no longer read")
    assert "SMISHGUARD_TRUSTED_PROXIES" in result.stderr


def test_settings_trust_forwarded_proto_only_with_trusted_proxies(tmp_path):
    code = "from django.conf import settings\nprint(settings.SECURE_PROXY_SSL_HEADER)"
    assert django_eval(clean_env(tmp_path / "var"), code).strip() == "None"
    env = clean_env(tmp_path / "var", SMISHGUARD_TRUSTED_PROXIES="127.0.0.1")
    assert django_eval(env, code).strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
