"""Console pages for API tokens (the protected brands' are in tests/detection/test_detection_console.py)."""

import pytest
from page_fixtures import sign_in_new as sign_in

from smishguard.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/console/tokens"])
def test_pages_are_for_admins_only(client, path):
    assert client.get(path).status_code == 302
    sign_in(client, admin=False, email="emp@example.com")
    assert client.get(path).status_code == 403


def test_token_is_shown_once_and_revocable(client):
    sign_in(client)
    response = client.post("/console/tokens", {"name": "mail gateway", "scopes": ["scan"]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    row = ApiToken.objects.get(name="mail gateway")
    start = html.index("data-new-token>") + len("data-new-token>")
    secret = html[start : html.index("<", start)]
    assert secret.startswith(row.prefix)
    assert secret not in client.get("/console/tokens").content.decode()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/scan", {"text": "hi"}, content_type="application/json", headers=auth).status_code == 200
    client.post(f"/console/tokens/{row.pk}/revoke")
    assert client.post("/api/scan", {"text": "hi"}, content_type="application/json", headers=auth).status_code == 401
    response = client.post("/console/tokens", {"name": "", "scopes": ["scan"]})
    assert "a token needs a name" in response.content.decode()
