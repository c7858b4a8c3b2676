"""Console pages for the protected brands (moved from tests/reports/test_reports_console.py)."""

import pytest
from page_fixtures import sign_in_new as sign_in

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection.models import Brand, Keyword

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/console/brands", "/console/brands/new"])
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


# --- renaming a brand (issue 10, item 9): validate first, then change in one transaction --------------------------


def _protects_acme() -> None:
    from smishguard.detection.services import current_matcher

    matcher = current_matcher()
    assert matcher.check("acme-sso.com").verdict == "lookalike"
    assert matcher.check("acme-sso.com").brand == "Acme"
    assert matcher.check("login.acme.com").verdict == "official"


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"name": "Acme Corp", "domains": "not a domain!", "tokens": ""}, "contains whitespace"),
        ({"name": "Acme Corp", "domains": "", "tokens": ""}, "at least one official domain"),
        ({"name": "Acme Corp", "domains": "localhost", "tokens": ""}, "no dot"),
        ({"name": "Acme Corp", "domains": "acme.com", "tokens": "x"}, "at least 2"),
        ({"name": "A" * 101, "domains": "acme.com", "tokens": ""}, "1 to 100 characters"),
        ({"name": "Globex", "domains": "acme.com", "tokens": ""}, "already"),
    ],
)
def test_a_rename_that_fails_validation_leaves_the_brand_protected(client, posted, message):
    from smishguard.detection import services as detection

    sign_in(client)
    brand = detection.save_brand(name="Acme", domains=["acme.com", "acme.co.uk"], tokens=["acmecorp"])
    detection.save_brand(name="Globex", domains=["globex.com"])
    before = Event.objects.count()
    _protects_acme()

    response = client.post(f"/console/brands/{brand.pk}/edit", posted)
    assert response.status_code == 200
    assert message in response.content.decode()
    kept = Brand.objects.get(pk=brand.pk)
    assert (kept.name, kept.domains, kept.tokens) == ("Acme", ["acme.co.uk", "acme.com"], ["acmecorp"])
    assert Brand.objects.get(name="Globex").domains == ["globex.com"]
    assert Brand.objects.count() == 2
    assert Event.objects.count() == before  # nothing was deleted or saved
    _protects_acme()


def test_a_rename_keeps_the_brand_and_its_domains_in_place(client):
    from smishguard.detection import services as detection
    from smishguard.detection.services import current_matcher

    sign_in(client)
    brand = detection.save_brand(name="Acme", domains=["acme.com"])
    response = client.post(
        f"/console/brands/{brand.pk}/edit", {"name": "Acme Corp", "domains": "acme.com, acme.io", "tokens": "acme"}
    )
    assert response.status_code == 302
    renamed = Brand.objects.get()
    assert (renamed.pk, renamed.name, renamed.domains) == (brand.pk, "Acme Corp", ["acme.com", "acme.io"])
    assert current_matcher().check("acme-sso.com").brand == "Acme Corp"
    assert current_matcher().check("login.acme.io").verdict == "official"
    actions = list(Event.objects.filter(action__startswith="reports:brand").values_list("action", flat=True))
    assert actions == [Action.BRAND_SAVED, Action.BRAND_SAVED]  # no deletion on the way
    saved = Event.objects.filter(action=Action.BRAND_SAVED).order_by("pk").last()
    assert saved.detail["old_name"] == "Acme"


def test_adding_a_brand_under_a_name_in_use_does_not_replace_its_domains(client):
    from smishguard.detection import services as detection

    sign_in(client)
    detection.save_brand(name="Globex", domains=["globex.com"])
    response = client.post("/console/brands/new", {"name": "Globex", "domains": "globex-new.com", "tokens": ""})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Brand.objects.get().domains == ["globex.com"]
    assert detection.current_matcher().check("login.globex.com").verdict == "official"


# --- issue 15: partners, and the audit of every edit that widens or narrows what is flagged ----------------------


def _acme_with_partners(client, partners: str):
    """Acme added with no partners, then edited to ``partners`` in the console: (the brand, the edit's answer)."""
    sign_in(client)
    client.post("/console/brands/new", {"name": "Acme", "domains": "acme.com", "tokens": "", "partners": ""})
    brand = Brand.objects.get(name="Acme")
    fields = {"name": "Acme", "domains": "acme.com", "tokens": "", "partners": partners}
    return brand, client.post(f"/console/brands/{brand.pk}/edit", fields)


def test_partners_are_edited_in_the_console_and_audited(client):
    brand, response = _acme_with_partners(client, "acme-reseller.com")
    assert response.status_code == 302
    assert Brand.objects.get(pk=brand.pk).partners == ["acme-reseller.com"]
    page = client.get("/console/brands?check=shop.acme-reseller.com").content.decode()
    assert "partner" in page
    assert "configured as a partner of Acme" in page
    edit = Event.objects.filter(action=Action.BRAND_SAVED).order_by("-id").first()
    assert edit.detail["partners"] == ["acme-reseller.com"]
    assert edit.detail["old_partners"] == []


def test_a_partner_that_is_also_official_is_refused_and_nothing_changes(client):
    brand, response = _acme_with_partners(client, "acme.com")
    assert response.status_code == 200
    assert "official and as a partner" in response.content.decode()
    assert Brand.objects.get(pk=brand.pk).partners == []


def test_keywords_added_are_audited(client):
    sign_in(client)
    client.post("/console/brands/keywords", {"word": "Payroll"})
    client.post("/console/brands/keywords", {"word": "payroll"})  # already there: nothing added, nothing audited
    events = list(Event.objects.filter(action=Action.KEYWORDS_ADDED))
    assert len(events) == 1
    assert events[0].detail["words"] == ["payroll"]


def test_a_bad_partner_domain_is_named_as_a_partner(client):
    brand, response = _acme_with_partners(client, "not a domain")
    assert response.status_code == 200
    assert "partner" in response.content.decode()
    assert "not valid" in response.content.decode()
    assert Brand.objects.get(pk=brand.pk).partners == []
