"""The console's Simulations pages: the list, a new one from a template or from a campaign picked on the page, the
detail with its funnel and recipients, and the launch / pause / resume / cancel buttons (POST with CSRF, admins
only, audited with who clicked)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from page_fixtures import admin, employee, login  # noqa: F401 - the shared fixtures
from simulation_fixtures import configure, drills, fake, people  # noqa: F401 - the shared fixtures

from smishguard.accounts import nav
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.reports.models import Campaign, Report
from smishguard.training import hooks
from smishguard.training.models import Recipient, Simulation

ORIGIN = {"HTTP_ORIGIN": django_settings.SMISHGUARD.origin}


def test_the_menu_entry_is_in_the_awareness_section() -> None:
    entry = next(e for e in nav.entries() if e.key == "simulations")
    assert (entry.label, entry.url_name, entry.section) == ("Simulations", "simulations:list", hooks.NAV_SECTION)


@pytest.mark.django_db
def test_an_admin_makes_launches_pauses_resumes_and_cancels_a_drill(drills, people, admin, login) -> None:  # noqa: F811 - the shared fixtures
    people(2)
    client = login(admin)
    assert client.get(reverse("simulations:list")).status_code == 200
    form = client.get(reverse("simulations:new"))
    assert form.status_code == 200
    assert b'<option value="sales">' in form.content

    bad = client.post(
        reverse("simulations:new"),
        {"name": "Bad", "group": "sales", "source": "template", "template": "Go to evil.com {link}"},
        **ORIGIN,
    )
    assert bad.status_code == 400
    assert b"a drill may contain no link but {link}" in bad.content

    made = client.post(
        reverse("simulations:new"),
        {"name": "Parcel", "group": "sales", "window": "08:00-20:00", "source": "template",
         "template": "Hi {first_name}, your parcel is held: {link}"},
        **ORIGIN,
    )  # fmt: skip
    assert made.status_code == 302
    simulation = Simulation.objects.get()
    page = client.get(made["Location"])
    assert page.status_code == 200
    assert b"Hi Pat0, your parcel is held: " in page.content
    assert b'data-step="sent"' in page.content
    assert page.content.count(b"data-recipient=") == 2
    listing = client.get(reverse("simulations:list"))
    assert f'data-simulation="{simulation.pk}"'.encode() in listing.content

    for action, status in (("launch", "running"), ("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        response = client.post(reverse(f"simulations:{action}", args=[simulation.pk]), **ORIGIN)
        assert response.status_code == 302
        simulation.refresh_from_db()
        assert simulation.status == status, action
    assert Recipient.objects.filter(skipped="cancelled").count() == 2
    audited = Event.objects.filter(action__startswith="training:simulation:").exclude(action=Action.SIMULATION_CREATED)
    assert {e.actor_label for e in audited} == {admin.email}
    assert audited.count() == 4

    again = client.post(reverse("simulations:pause", args=[simulation.pk]), **ORIGIN)
    assert again.status_code == 302
    assert b"cannot be paused" in client.get(again["Location"]).content


@pytest.mark.django_db
def test_a_drill_from_a_campaign_picked_on_the_page(drills, people, admin, login) -> None:  # noqa: F811 - the shared fixtures
    people(1)
    campaign = Campaign.objects.create(brand="DHL", domains=["dhl-parcel.top"], report_count=1)
    Report.objects.create(
        channel="sms", text="DHL: your parcel is held, pay at dhl-parcel.top/pay", reporter_label="x", campaign=campaign
    )
    client = login(admin)
    form = client.get(reverse("simulations:new") + f"?campaign={campaign.pk}")
    assert f'<option value="{campaign.pk}" selected>'.encode() in form.content
    made = client.post(
        reverse("simulations:new"),
        {"name": "From DHL", "group": "sales", "source": "campaign", "campaign": str(campaign.pk)},
        **ORIGIN,
    )
    assert made.status_code == 302
    simulation = Simulation.objects.get()
    assert (simulation.brand, simulation.template) == ("DHL", "DHL: your parcel is held, pay at {link}")


@pytest.mark.django_db
def test_one_click_from_the_campaign_page_to_a_drill_ready_to_save(drills, people, admin, login) -> None:  # noqa: F811 - the shared fixtures
    people(2)
    campaign = Campaign.objects.create(brand="Okta", domains=["acme-okta.net"], report_count=3)
    Report.objects.create(
        channel="sms", text="Acme IT: your password expires today, keep it at acme-okta.net", reporter_label="x",
        campaign=campaign,
    )  # fmt: skip
    client = login(admin)
    page = client.get(reverse("reports:campaign", args=[campaign.pk])).content.decode()
    link = reverse("simulations:new") + f"?campaign={campaign.pk}"
    assert f'href="{link}">Make a drill of it</a>' in page  # reports' page, training's button (reports.actions)
    form = client.get(link).content.decode()
    assert f'<option value="{campaign.pk}" selected>' in form
    assert f'value="Drill: Okta (campaign #{campaign.pk})"' in form
    assert '<option value="simulations" selected>' in form  # the programme's group
    made = client.post(
        reverse("simulations:new"),
        {"name": f"Drill: Okta (campaign #{campaign.pk})", "group": "simulations", "source": "campaign",
         "campaign": str(campaign.pk)},
        **ORIGIN,
    )  # fmt: skip
    assert made.status_code == 302
    simulation = Simulation.objects.get()
    assert (simulation.source_campaign_id, simulation.brand) == (campaign.pk, "Okta")
    assert simulation.template == "Acme IT: your password expires today, keep it at {link}"
    assert simulation.recipients.filter(skipped="").count() == 2


@pytest.mark.django_db
def test_an_unknown_campaign_in_the_link_gives_the_empty_form(drills, people, admin, login) -> None:  # noqa: F811 - the shared fixtures
    form = login(admin).get(reverse("simulations:new") + "?campaign=999")
    assert form.status_code == 200
    assert 'value="Drill:' not in form.content.decode()


@pytest.mark.django_db
def test_the_pages_are_for_admins_and_the_buttons_need_a_post_with_csrf(drills, people, admin, employee, login) -> None:  # noqa: F811 - the shared fixtures
    people(1)
    client = login(admin)
    client.post(
        reverse("simulations:new"),
        {"name": "P", "group": "sales", "source": "template", "template": "{link}"},
        **ORIGIN,
    )
    simulation = Simulation.objects.get()
    assert login(employee).get(reverse("simulations:list")).status_code == 403
    assert login(employee).post(reverse("simulations:launch", args=[simulation.pk]), **ORIGIN).status_code == 403
    assert client.get(reverse("simulations:launch", args=[simulation.pk])).status_code == 405
    strict = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mozilla/5.0")
    strict.cookies = client.cookies
    assert strict.post(reverse("simulations:launch", args=[simulation.pk]), **ORIGIN).status_code == 403
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.DRAFT
    assert client.get(reverse("simulations:detail", args=[999])).status_code == 404
