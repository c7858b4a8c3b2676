"""The secret key is refused at start when it is a placeholder or carries less than 32 random bytes.

How "32 random bytes" is judged (smishguard.config.secret_key): the key's characters are put in the smallest
usual alphabet that holds them all (digits, hex, letters, letters and digits, base64, any printable), and the
key must be long enough to carry 256 bits in it (64 hex characters, 43 of base64, 40 printable ones); then it
must not look made by hand: no placeholder words, no repeating pattern, not mostly a sequence ("abcd…"), not a
few characters used again and again.  Keys made by the usual tools all pass, which the table checks on many.
"""

from __future__ import annotations

import base64
import secrets
import string
from pathlib import Path

import pytest

from smishguard import config
from smishguard.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def placeholder() -> str:
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.startswith("SMISHGUARD_SECRET_KEY="):
            return line.split("=", 1)[1]
    raise AssertionError("deploy/env.example has no SMISHGUARD_SECRET_KEY line")


def django_style() -> str:
    """What Django's startproject puts in settings (get_random_secret_key), less its "django-insecure-" prefix."""
    chars = string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"
    return "".join(secrets.choice(chars) for _ in range(50))


def key_from_env(monkeypatch, tmp_path, key: str) -> str:
    monkeypatch.setenv("SMISHGUARD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SMISHGUARD_SECRET_KEY", key)
    return config.secret_key()


WEAK = [
    (placeholder(), "placeholder"),
    ("django-insecure-" + "k" * 3 + secrets.token_urlsafe(40), "placeholder"),
    ("please-change-me-" + secrets.token_hex(32), "placeholder"),
    ("our-production-secret-key-" + secrets.token_hex(32), "placeholder"),
    ("Tr0ub4dor&3", "at most"),
    (secrets.token_hex(31), "at most"),  # 62 hex characters: 248 bits
    (secrets.token_urlsafe(31), "at most"),  # 42 base64 characters: 252 bits
    ("1234567890" * 9, "does not look random"),  # 90 digits: 299 bits' room, but a pattern
    ("a" * 100, "does not look random"),
    ("ab" * 40, "does not look random"),
    (string.ascii_letters + string.digits, "does not look random"),  # the alphabet in order
    ("0123456789abcdef" * 4, "does not look random"),
    ("xyzzy" + "0" * 60, "does not look random"),
]


@pytest.mark.parametrize(("key", "why"), WEAK, ids=[f"weak-{n}" for n in range(len(WEAK))])
def test_a_weak_key_is_refused_with_one_line_that_does_not_show_it(monkeypatch, tmp_path, key, why):
    with pytest.raises(ConfigError) as raised:
        key_from_env(monkeypatch, tmp_path, key)
    message = str(raised.value)
    assert "SMISHGUARD_SECRET_KEY" in message
    assert why in message
    assert "\n" not in message
    assert key not in message


GOOD_MAKERS = {
    "token_urlsafe(32)": lambda: secrets.token_urlsafe(32),
    "token_urlsafe(50), as the demo makes": lambda: secrets.token_urlsafe(50),
    "token_hex(32)": lambda: secrets.token_hex(32),
    "token_hex(32) upper case": lambda: secrets.token_hex(32).upper(),
    "base64 of 32 bytes": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "base64 of 48 bytes": lambda: base64.b64encode(secrets.token_bytes(48)).decode(),
    "openssl rand -base64 32": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "Django's get_random_secret_key (50 characters)": django_style,
    "43 letters and digits": lambda: "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43)),
}


@pytest.mark.parametrize("maker", list(GOOD_MAKERS), ids=list(GOOD_MAKERS))
def test_keys_made_by_the_usual_tools_are_accepted(monkeypatch, tmp_path, maker):
    for _ in range(300):  # many draws: a random key must never be refused by bad luck
        key = GOOD_MAKERS[maker]()
        assert key_from_env(monkeypatch, tmp_path, key) == key


def test_the_generated_key_is_accepted_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SMISHGUARD_SECRET_KEY", raising=False)
    monkeypatch.setenv("SMISHGUARD_DATA_DIR", str(tmp_path / "var"))
    made = config.secret_key()
    assert config.secret_key() == made
    assert (tmp_path / "var" / "secret_key").read_text() == made


def test_a_weak_key_in_the_key_file_is_refused_too(monkeypatch, tmp_path):
    monkeypatch.delenv("SMISHGUARD_SECRET_KEY", raising=False)
    monkeypatch.setenv("SMISHGUARD_DATA_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("hunter2\n")
    with pytest.raises(ConfigError) as raised:
        config.secret_key()
    assert str(raised.value).startswith(f"the secret key in {tmp_path / 'var' / 'secret_key'} ")
    assert "hunter2" not in str(raised.value)
