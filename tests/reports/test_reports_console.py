"""Console pages for protected brands and API tokens."""

import pytest
from django.conf import settings

from smishguard.accounts import services, sessions
from smishguard.accounts.models import ApiToken
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.reports.models import Brand, Keyword

pytestmark = pytest.mark.django_db


def sign_in(client, *, admin=True, email="sec@example.com"):
    employee = services.add_employee(email=email, name="Sec Admin", is_admin=admin)
    token, _ = sessions.create(employee, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    return employee


@pytest.mark.parametrize("path", ["/console/brands", "/console/brands/new", "/console/tokens"])
def test_pages_are_for_admins_only(client, path):
    assert client.get(path).status_code == 302
    sign_in(client, admin=False, email="emp@example.com")
    assert client.get(path).status_code == 403


def test_add_edit_check_and_remove_a_brand(client):
    sign_in(client)
    response = client.post(
        "/console/brands/new", {"name": "Acme", "domains": "acme.com, ACME.co.uk", "tokens": "acmecorp"}
    )
    assert response.status_code == 302
    brand = Brand.objects.get(name="Acme")
    assert brand.domains == ["acme.co.uk", "acme.com"]
    page = client.get("/console/brands?check=acme-sso.com").content.decode()
    assert "lookalike" in page
    assert "Acme" in page
    assert "official" in client.get("/console/brands?check=login.acme.com").content.decode()
    assert "at most 253" in client.get("/console/brands?check=" + "a" * 300 + ".com").content.decode()

    response = client.post(f"/console/brands/{brand.pk}/edit", {"name": "Acme", "domains": "", "tokens": ""})
    assert response.status_code == 200
    assert "at least one official domain" in response.content.decode()
    assert Brand.objects.get(pk=brand.pk).domains == ["acme.co.uk", "acme.com"]  # nothing half-written

    client.post(f"/console/brands/{brand.pk}/delete")
    assert not Brand.objects.exists()
    actions = list(Event.objects.filter(action__startswith="reports:brand").values_list("action", flat=True))
    assert sorted(actions) == sorted([Action.BRAND_SAVED, Action.BRAND_DELETED])


def test_keyword_is_added_once(client):
    sign_in(client)
    client.post("/console/brands/keywords", {"word": "Payroll"})
    client.post("/console/brands/keywords", {"word": "payroll"})
    client.post("/console/brands/keywords", {"word": "bad word!"})
    assert list(Keyword.objects.values_list("word", flat=True)) == ["payroll"]


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
