"""SMISHGUARD_COOKIE_DOMAIN (issue 14): a parent domain of smishguard's origin host, or one readable line and no
start; unset: host-only cookies.  The cookies themselves: tests/accounts/test_accounts_cookie_domain.py."""

from __future__ import annotations

import json

import pytest
from servers import clean_env, django_eval, free_port, smishguard

from smishguard.config import ConfigError, cookie_domain

ORIGIN = "https://auth.example.com"


@pytest.mark.parametrize(
    ("value", "origin", "expected"),
    [
        (None, ORIGIN, None),
        ("", ORIGIN, None),
        ("  ", ORIGIN, None),
        (".example.com", ORIGIN, ".example.com"),
        ("example.com", ORIGIN, ".example.com"),
        (" .Example.COM ", ORIGIN, ".example.com"),
        (".corp.example.com", "https://login.corp.example.com:8443", ".corp.example.com"),
        (".example.com", "https://a.b.example.com", ".example.com"),
        (".example.test", "http://auth.example.test:8000", ".example.test"),
    ],
)
def test_a_parent_domain_of_the_origin_host_is_taken(monkeypatch, value, origin, expected):
    if value is None:
        monkeypatch.delenv("SMISHGUARD_COOKIE_DOMAIN", raising=False)
    else:
        monkeypatch.setenv("SMISHGUARD_COOKIE_DOMAIN", value)
    assert cookie_domain(origin) == expected


@pytest.mark.parametrize(
    ("value", "origin", "message"),
    [
        (".com", ORIGIN, "at least two labels"),
        ("com", ORIGIN, "at least two labels"),
        (".example.com.", ORIGIN, "at least two labels"),
        ("*.example.com", ORIGIN, "at least two labels"),
        (".exa mple.com", ORIGIN, "at least two labels"),
        (".example.com\n", ORIGIN, None),  # stripped: taken
        (".evil.example", ORIGIN, "must be a parent domain of smishguard's origin host (auth.example.com)"),
        (".xample.com", ORIGIN, "must be a parent domain"),
        (".auth.example.com", ORIGIN, "must be a parent domain"),  # the host itself: not a parent
        (".example.com", "http://localhost:8000", "must be a parent domain"),
        (".example.com", "https://example.com", "must be a parent domain"),
        (".example.com", "https://auth.example.com.evil.example", "must be a parent domain"),
    ],
)
def test_anything_else_is_refused_with_one_line(monkeypatch, value, origin, message):
    monkeypatch.setenv("SMISHGUARD_COOKIE_DOMAIN", value)
    if message is None:
        assert cookie_domain(origin) == ".example.com"
        return
    with pytest.raises(ConfigError) as refused:
        cookie_domain(origin)
    text = str(refused.value)
    assert text.startswith("SMISHGUARD_COOKIE_DOMAIN ")
    assert message in text
    assert "\n" not in text


def test_a_process_refuses_to_start_with_a_cookie_domain_outside_its_origin(tmp_path):
    env = clean_env(tmp_path / "var", SMISHGUARD_ORIGIN=ORIGIN)
    smishguard(env, "migrate")
    env["SMISHGUARD_COOKIE_DOMAIN"] = ".evil.example"
    for argv in (["employees", "list"], ["serve", "--bind", f"127.0.0.1:{free_port()}"]):
        result = smishguard(env, *argv, check=False)
        assert result.returncode == 2, (argv, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("smishguard: error: SMISHGUARD_COOKIE_DOMAIN (.evil.example) must be a parent")
        assert "Traceback" not in result.stderr


def test_a_process_takes_a_parent_domain_for_the_session_and_csrf_cookies_only(tmp_path):
    code = (
        "import json\nfrom django.conf import settings\nprint(json.dumps([settings.COOKIE_DOMAIN, "
        "settings.CSRF_COOKIE_DOMAIN, settings.SESSION_COOKIE_DOMAIN]))"
    )
    env = clean_env(tmp_path / "var", SMISHGUARD_ORIGIN=ORIGIN, SMISHGUARD_COOKIE_DOMAIN=".example.com")
    assert json.loads(django_eval(env, code)) == [".example.com", ".example.com", None]
    unset = clean_env(tmp_path / "var", SMISHGUARD_ORIGIN=ORIGIN)
    assert json.loads(django_eval(unset, code)) == [None, None, None]
