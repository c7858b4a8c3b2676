"""Console pages of the CT watch: alerts (list, filters, detail, status) and the watched logs; admins only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from smishguard.accounts import services, sessions
from smishguard.audit.models import Event
from smishguard.watch.models import LogState, LookalikeAlert, Sighting

pytestmark = pytest.mark.django_db

ALERTS = "/console/watch/"
LOGS = "/console/watch/logs"


def client_for(person) -> Client:
    client = Client()
    token, _ = sessions.create(person, request=RequestFactory().post("/api/webauthn/login/verify"))
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    return client


@pytest.fixture
def admin():
    return services.add_employee(email="ada@example.com", name="Ada Admin", is_admin=True)


@pytest.fixture
def employee():
    return services.add_employee(email="carl@example.com", name="Carl Support")


@pytest.fixture
def alerts():
    def make(domain: str, brand: str, status: str = "open") -> LookalikeAlert:
        alert = LookalikeAlert.objects.create(
            domain=domain,
            registrable=domain,
            brand=brand,
            techniques=["keyword"],
            score=0.9,
            reasons=[f"'{domain.partition('-')[0]}' is the protected brand {brand}, standing as a whole part"],
            matcher="2",
            log="Test log",
            entry_index=41,
            entry_kind="precert",
            issuer="CN=R3,O=Let's Encrypt,C=US",
            not_before=datetime(2026, 3, 1, tzinfo=UTC),
            names=[domain, f"www.{domain}"],
            status=status,
        )
        Sighting.objects.create(alert=alert, source="log-a", entry_index=41, log="Test log")
        return alert

    return [
        make("twilio-sso.com", "Twilio"),
        make("twilio-okta.com", "Twilio", "acknowledged"),
        make("acme-login.com", "Acme", "false_positive"),
    ]


@pytest.mark.parametrize("url", [ALERTS, LOGS, "/console/watch/alerts/1"])
def test_signed_out_visitors_are_sent_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("url", [ALERTS, LOGS])
def test_employees_who_are_not_admins_get_403(employee, url):
    assert client_for(employee).get(url).status_code == 403


def test_alert_list_and_filters(admin, alerts):
    client = client_for(admin)
    page = client.get(ALERTS).content.decode()
    assert all(a.domain in page for a in alerts)
    by_brand = client.get(ALERTS, {"brand": "Acme"}).content.decode()
    assert "acme-login.com" in by_brand
    assert "twilio-sso.com" not in by_brand
    by_status = client.get(ALERTS, {"status": "acknowledged"}).content.decode()
    assert "twilio-okta.com" in by_status
    assert "twilio-sso.com" not in by_status
    by_text = client.get(ALERTS, {"q": "OKTA"}).content.decode()
    assert "twilio-okta.com" in by_text
    assert "acme-login.com" not in by_text
    assert "No lookalike alerts match these filters" in client.get(ALERTS, {"brand": "Nobody"}).content.decode()


def test_alert_detail_and_status_change(admin, employee, alerts):
    alert = alerts[0]
    client = client_for(admin)
    page = client.get(f"/console/watch/alerts/{alert.pk}").content.decode()
    assert "www.twilio-sso.com" in page
    assert "CN=R3,O=Let&#x27;s Encrypt,C=US" in page
    assert "#41" in page
    assert "is the protected brand Twilio, standing as a whole part" in page  # why, in plain words
    assert "matcher version 2" in page

    response = client.post(f"/console/watch/alerts/{alert.pk}/status", {"status": "false_positive"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.status_changed_by) == ("false_positive", "ada@example.com")
    event = Event.objects.get(action="watch:alert:status_changed")
    assert event.detail == {"alert_id": alert.pk, "old": "open", "new": "false_positive"}

    assert client.post(f"/console/watch/alerts/{alert.pk}/status", {"status": "bogus"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "false_positive"
    # Not for employees, and not by GET.
    assert client_for(employee).post(f"/console/watch/alerts/{alert.pk}/status", {"status": "open"}).status_code == 403
    assert client.get(f"/console/watch/alerts/{alert.pk}/status").status_code == 405
    assert client.get("/console/watch/alerts/999999").status_code == 404


def test_watched_logs_page_shows_position_lag_and_last_error(admin):
    LogState.objects.create(
        key="a", description="Argon test log", url="https://ct.example/argon/", api="rfc6962",
        next_index=1200, tree_size=1500, last_error="tree head refused: signature does not verify",
    )  # fmt: skip
    LogState.objects.create(key="b", description="Tiled test log", api="static", next_index=77, tree_size=77)
    page = client_for(admin).get(LOGS).content.decode()
    assert "Argon test log" in page
    assert "1200" in page
    assert "1500" in page
    assert ">300<" in page  # the lag
    assert "tree head refused: signature does not verify" in page
    assert "Tiled test log" in page
    assert "static-CT API" in page
