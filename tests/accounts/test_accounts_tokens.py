"""API tokens: shown once, stored as a digest, scoped, revocable, refusals audited."""

import pytest

from smishguard.accounts import tokens
from smishguard.accounts.errors import InvalidToken
from smishguard.accounts.models import ApiToken
from smishguard.audit import Action
from smishguard.audit.models import Event

pytestmark = pytest.mark.django_db


def test_issue_stores_only_a_digest():
    row, secret = tokens.issue("SIEM", scopes=["scan"])
    assert secret.startswith("sg_")
    assert len(secret) > 40
    stored = ApiToken.objects.get(pk=row.pk)
    assert secret not in (stored.token_hash, stored.prefix)
    assert stored.prefix == secret[:10]
    assert Event.objects.filter(action=Action.API_TOKEN_ISSUED).count() == 1


def test_authenticate_checks_secret_scope_and_revocation():
    row, secret = tokens.issue("SIEM", scopes=["scan"])
    assert tokens.authenticate(secret, "scan").pk == row.pk
    assert tokens.authenticate(secret, "blocklists") is None
    assert tokens.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B"), "scan") is None
    assert tokens.authenticate("", "scan") is None
    assert tokens.authenticate("not-ours", "scan") is None
    tokens.revoke(row.pk)
    assert tokens.authenticate(secret, "scan") is None


@pytest.mark.parametrize(("name", "scopes"), [("", ["scan"]), ("x", []), ("x", ["root"]), ("x" * 101, ["scan"])])
def test_bad_token_requests_are_refused(name, scopes):
    with pytest.raises(InvalidToken):
        tokens.issue(name, scopes=scopes)
    assert ApiToken.objects.count() == 0


def test_scan_endpoint_needs_a_scan_token(client):
    response = client.post("/api/scan", {"text": "hi"}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    _, wrong_scope = tokens.issue("lists", scopes=["blocklists"])
    response = client.post(
        "/api/scan", {"text": "hi"}, content_type="application/json", headers={"Authorization": f"Bearer {wrong_scope}"}
    )
    assert response.status_code == 401
    refused = Event.objects.get(action=Action.API_TOKEN_REFUSED)  # the one that presented a token
    assert refused.detail == {"scope": "scan", "earlier_refusals": 0}  # (refusals are audited once per window)
