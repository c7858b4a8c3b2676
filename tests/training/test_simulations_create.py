"""Making a simulation: the template's rules (placeholders; no link but {link}, found by the engine's link finder),
one made from a real campaign, who is messaged and who is skipped (with the reason), rids and tracked links, and
the send window in each recipient's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from simulation_fixtures import people, training_settings  # noqa: F401 - the shared fixture

from smishguard.accounts import services
from smishguard.accounts.models import Employee
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.errors import NotFound
from smishguard.reports.models import Campaign, Report
from smishguard.training import simulations
from smishguard.training.errors import InvalidSimulation
from smishguard.training.links import tracked_link
from smishguard.training.models import Recipient, Simulation, SimulationOptOut

GOOD = "Hi {first_name}, {company} IT here: your password expires today. Keep it: {link}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("Hi {name}: {link}", "unknown placeholder {name}", id="unknown-placeholder"),
        pytest.param("Hi {}: {link}", "unknown placeholder {}", id="empty-placeholder"),
        pytest.param("Hi {first_name!r}: {link}", "with nothing after its name", id="conversion"),
        pytest.param("Hi {first_name:>9}: {link}", "with nothing after its name", id="format-spec"),
        pytest.param("Hi {first_name}, log in now", "has no {link}", id="no-link"),
        pytest.param("Log in at https://okta-login.com/x or {link}", "links to 'https://okta-login.com/x'", id="url"),
        pytest.param("Log in at twilio-sso.com or {link}", "links to 'twilio-sso.com'", id="bare-domain"),
        pytest.param("See hxxps://evil[.]com/a {link}", "a drill may contain no link but {link}", id="defanged"),
        pytest.param("Hi { {link}", "stray brace", id="stray-brace"),
        pytest.param("   ", "the text is empty", id="empty"),
        pytest.param("x" * 1001 + "{link}", "longer than 1000", id="too-long"),
    ],
)
def test_a_template_with_anything_but_the_three_placeholders_or_with_another_link_is_refused(text, message) -> None:
    with pytest.raises(InvalidSimulation) as caught:
        simulations.check_template(text)
    assert message in str(caught.value)


def test_good_templates_pass_including_literal_braces_and_times() -> None:
    for text in (GOOD, "{link} at 3.5 hours, e.g. today {{ok}}", "Mr.Smith: {link}"):
        assert simulations.check_template(text) == text


@pytest.mark.django_db
def test_recipients_are_the_enrolled_active_members_with_a_phone_in_an_allowed_country_not_opted_out(
    people,  # noqa: F811 - the shared fixture
    settings,
) -> None:
    training_settings(settings, allowed_countries=("GB",), company="Acme")
    ok, suspended, stopped, american = people(4)
    not_enrolled = people(1, start=10, enrolled=False)[0]
    no_phone = people(1, start=20, phone="")[0]
    toggled = services.add_employee(email="t@example.com", name="Toni Toggle", phone="+447700900555", groups=["sales"])
    Employee.objects.filter(pk=toggled.pk).update(in_simulations=True)
    services.suspend(suspended)
    SimulationOptOut.objects.create(phone=stopped.phone)
    Employee.objects.filter(pk=american.pk).update(phone="+14155550100")
    people(1, start=30, group="elsewhere")  # in the programme, not in the group

    simulation = simulations.create(name="Password expiry", group="sales", template=GOOD, window="09:00-17:00")

    reasons = {r.employee.email: r.skipped for r in Recipient.objects.filter(simulation=simulation)}
    assert reasons == {
        ok.email: "",
        toggled.email: "",
        suspended.email: "not_active",
        stopped.email: "opted_out",
        american.email: "country",
        not_enrolled.email: "not_enrolled",
        no_phone.email: "no_phone",
    }
    assert simulation.status == Simulation.Status.DRAFT
    assert (simulation.window_start, simulation.window_end) == (time(9), time(17))
    rids = list(Recipient.objects.values_list("rid", flat=True))
    assert len(set(rids)) == len(rids) == 7
    assert all(len(rid) >= 22 and rid.replace("-", "").replace("_", "").isalnum() for rid in rids)  # >= 128 bits
    event = Event.objects.get(action=Action.SIMULATION_CREATED)
    assert (event.detail["recipients"], event.detail["skipped"], event.detail["group"]) == (2, 5, "sales")

    recipient = Recipient.objects.get(employee=ok)
    text = simulations.render(simulation.template, ok, recipient.rid)
    assert text == f"Hi Pat0, Acme IT here: your password expires today. Keep it: {tracked_link(recipient.rid)}"


@pytest.mark.django_db
def test_the_tracked_link_is_on_the_simulation_host_or_else_the_origin(settings) -> None:
    training_settings(settings, simulation_host="it-helpdesk.example.net")
    assert tracked_link("abc") == "https://it-helpdesk.example.net/s/abc"
    training_settings(settings, simulation_host="")
    assert tracked_link("abc") == f"{settings.SMISHGUARD.origin.rstrip('/')}/s/abc"


@pytest.mark.django_db
def test_bad_groups_names_and_windows_are_refused(people) -> None:  # noqa: F811 - the shared fixtures
    people(1)
    services.add_employee(email="x@example.com", name="X", groups=["empty-later"])
    Employee.objects.get(email="x@example.com").groups.clear()
    with pytest.raises(NotFound, match="no group 'nobody'"):
        simulations.create(name="x", group="nobody", template=GOOD)
    with pytest.raises(InvalidSimulation, match="has no members"):
        simulations.create(name="x", group="empty-later", template=GOOD)
    with pytest.raises(InvalidSimulation, match="needs a name"):
        simulations.create(name=" ", group="sales", template=GOOD)
    for window in ("9-17", "09:00-09:00", "25:00-26:00", "09:00"):
        with pytest.raises(InvalidSimulation, match="window"):
            simulations.create(name="x", group="sales", template=GOOD, window=window)
    with pytest.raises(InvalidSimulation, match="one of the two"):
        simulations.create(name="x", group="sales", template=GOOD, campaign_id=1)
    assert Simulation.objects.count() == 0


def _report(campaign: Campaign, text: str, fingerprint: str) -> Report:
    return Report.objects.create(
        channel="sms", text=text, reporter_label="+447700900001", campaign=campaign, fingerprint=fingerprint
    )


@pytest.mark.django_db
def test_a_drill_from_a_campaign_keeps_its_brand_and_most_common_wording_with_every_link_replaced(people) -> None:  # noqa: F811 - the shared fixtures
    people(2)
    campaign = Campaign.objects.create(brand="Okta", domains=["okta-sso.co"], report_count=3)
    _report(campaign, "Odd one out: okta-sso.co/x", "odd")
    common = "Your Okta {session} expired. Sign in: https://okta-sso.co/login or hxxp://okta-sso[.]co"
    _report(campaign, common, "common")
    _report(campaign, common.replace("Sign in", "Sign  in"), "common")

    simulation = simulations.create(name="From the campaign", group="sales", campaign_id=campaign.pk)

    assert simulation.brand == "Okta"
    assert simulation.source_campaign_id == campaign.pk
    assert simulation.template == "Your Okta {{session}} expired. Sign in: {link} or {link}"
    recipient = Recipient.objects.filter(simulation=simulation).first()
    text = simulations.render(simulation.template, recipient.employee, recipient.rid)
    link = tracked_link(recipient.rid)
    assert text == f"Your Okta {{session}} expired. Sign in: {link} or {link}"

    with pytest.raises(NotFound, match="no campaign 999"):
        simulations.create(name="x", group="sales", campaign_id=999)
    empty = Campaign.objects.create(brand="Nobody")
    with pytest.raises(InvalidSimulation, match="no reported text"):
        simulations.create(name="x", group="sales", campaign_id=empty.pk)


LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("window", "zone", "now", "expected"),
    [
        pytest.param(None, LONDON, "2026-06-01T03:00", "2026-06-01T03:00", id="no-window-any-time"),
        pytest.param("09:00-17:00", LONDON, "2026-06-01T10:00", "2026-06-01T10:00", id="inside"),
        # 06:00 UTC is 07:00 in London (BST): the window opens at 08:00 UTC the same day.
        pytest.param("09:00-17:00", LONDON, "2026-06-01T06:00", "2026-06-01T08:00", id="before-opening"),
        pytest.param("09:00-17:00", LONDON, "2026-06-01T17:30", "2026-06-02T08:00", id="after-closing-next-day"),
        pytest.param("09:00-17:00", TOKYO, "2026-06-01T09:00", "2026-06-02T00:00", id="tokyo-evening"),
        pytest.param("21:00-07:00", LONDON, "2026-06-01T23:30", "2026-06-01T23:30", id="overnight-inside-late"),
        pytest.param("21:00-07:00", LONDON, "2026-06-01T04:00", "2026-06-01T04:00", id="overnight-inside-early"),
        pytest.param("21:00-07:00", LONDON, "2026-06-01T12:00", "2026-06-01T20:00", id="overnight-outside"),
        pytest.param("09:00-17:00", LONDON, "2026-01-05T08:30", "2026-01-05T09:00", id="winter-gmt"),
    ],
)
def test_the_window_opens_in_each_recipients_own_time_zone(window, zone, now, expected) -> None:
    start, end = simulations.parse_window(window)
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert simulations.next_opening(start, end, zone, moment) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


@pytest.mark.django_db
def test_an_employees_time_zone_else_the_default(settings) -> None:
    training_settings(settings, default_time_zone="America/New_York")
    person = services.add_employee(email="z@example.com", name="Zed")
    assert simulations.zone_of(person) == ZoneInfo("America/New_York")
    person.time_zone = "Asia/Tokyo"
    assert simulations.zone_of(person) == TOKYO
