"""``smishguard scan`` and ``POST /api/scan``."""

import json

import pytest

from smishguard.accounts import tokens
from smishguard.cli import main

LURE = "Twilio IT: your password has expired, reset it at hxxps://twilio-okta[.]com/reset"


@pytest.fixture
def brands_file(tmp_path):
    path = tmp_path / "brands.toml"
    path.write_text('[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\n')
    return path


def test_readable_verdict_names_the_imitated_brand(capsys, brands_file):
    assert main(["scan", "--config", str(brands_file), LURE]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SMISHING")
    assert "links to twilio-okta.com, which imitates Twilio's sign-in; Twilio's own domain is twilio.com" in out


def test_json_verdict_shape(capsys, brands_file):
    assert main(["scan", "--json", "--config", str(brands_file), LURE]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == {"verdict", "score", "reasons", "urls", "domains"}
    assert body["verdict"] == "smishing"
    assert 0 <= body["score"] <= 1
    assert {"code", "detail"} == set(body["reasons"][0])
    (domain,) = body["domains"]
    assert (domain["domain"], domain["verdict"], domain["brand"]) == ("twilio-okta.com", "lookalike", "Twilio")


def test_official_link_is_not_smishing_by_the_rule(capsys, brands_file):
    assert (
        main(["scan", "--json", "--config", str(brands_file), "Your Twilio invoice is at https://twilio.com/console"])
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert body["domains"][0]["verdict"] == "official"
    assert all(r["code"] != "lookalike-domain" for r in body["reasons"])


def test_file_gives_one_json_line_per_input_in_order(capsys, brands_file, tmp_path):
    f = tmp_path / "texts.txt"
    f.write_bytes(
        b"hi mum, dinner at 7?\n"
        + json.dumps({"text": LURE}).encode()
        + b"\n\xff\xfe broken\n"
        + b'{"id": 4}\n'
        + b"\n"
        + b"ctrl \x00\x07 chars http://192.168.0.1/login\n"
        + b"x" * 1_100_000
        + b"\n"
        + b"last line twilio-sso.com\n"
    )
    for extra in ([], ["--json"]):
        assert main(["scan", *extra, "--config", str(brands_file), "--file", str(f)]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(rows) == 8
        assert rows[0]["verdict"] == "benign"
        assert rows[1]["verdict"] == "smishing"
        assert rows[2]["error"]["code"] == "invalid_utf8"
        assert rows[3]["error"]["code"] == "missing_text"
        assert rows[4]["verdict"] == "benign"  # empty line
        assert "verdict" in rows[5]
        assert "verdict" in rows[6]  # a 1 MB line still gets a verdict
        assert rows[7]["verdict"] == "smishing"


def test_scan_needs_text_or_file(capsys, brands_file):
    assert main(["scan"]) == 2
    assert "give either a TEXT or --file F" in capsys.readouterr().err
    assert main(["scan", "--file", "/nonexistent/file.txt", "--config", str(brands_file)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.django_db
def test_api_scan_with_token_uses_database_brands(client):
    from smishguard.detection.services import save_brand

    save_brand(name="Twilio", domains=["twilio.com"])
    _, secret = tokens.issue("mail gateway", scopes=["scan"])
    auth = {"Authorization": f"Bearer {secret}"}
    response = client.post("/api/scan", {"text": LURE}, content_type="application/json", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "smishing"
    assert body["domains"][0]["brand"] == "Twilio"
    for bad in ({}, {"text": 5}, {"text": None}):
        response = client.post("/api/scan", bad, content_type="application/json", headers=auth)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
    response = client.post("/api/scan", b"{not json", content_type="application/json", headers=auth)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed_json")
    response = client.post("/api/scan", {"text": ""}, content_type="application/json", headers=auth)
    assert response.status_code == 200
    assert response.json()["verdict"] == "benign"
