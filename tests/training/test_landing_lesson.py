"""The lesson at /s/<rid>/lesson: "this was a drill; here is what gave it away" — the sender, the link's host, the
words that pressed for haste, the drill's own text — and how to report (the reporting number).  A submit leads
there (303) and says a key touch comes next."""

from __future__ import annotations

import dataclasses

import pytest
from landing_fixtures import BROWSERS, make_lesson_module, make_recipient, make_simulation, without_the_lesson_module

from smishguard.config import TwilioSettings

pytestmark = pytest.mark.django_db

IPHONE = BROWSERS["Safari on iPhone"]


@pytest.fixture
def drill_settings(settings):
    smishguard = settings.SMISHGUARD
    settings.SMISHGUARD = dataclasses.replace(
        smishguard,
        training=dataclasses.replace(
            smishguard.training,
            company="Acme Corp",
            simulation_host="acme-account-check.com",
            simulation_sender="+15005550009",
        ),
        twilio=TwilioSettings(from_numbers=("+15005550006",)),
    )
    return settings.SMISHGUARD


def test_the_lesson_says_what_gave_the_drill_away(client, drill_settings) -> None:
    make_lesson_module()
    recipient = make_recipient(make_simulation(brand="Okta"), name="Carl Support")
    page = client.get(f"/s/{recipient.rid}/lesson").content.decode()
    assert "This was a drill" in page
    assert "Acme Corp security team" in page
    assert "+15005550009" in page, "the sender"
    assert "acme-account-check.com" in page, "the lookalike link host"
    assert "or of Okta" in page, "the brand it imitated"
    for word in ("expires", "today", "now"):
        assert f"“{word}”" in page, "the urgency"
    assert "+15005550006" in page, "where to forward a suspicious text"
    assert (
        f"Hi Carl, your Acme Corp password expires today. Keep it now at https://acme-account-check.com/s/{recipient.rid}"
        in page
    )
    assert "module on phishing texts has been added" in page
    assert "touch your security key" not in page, "no submit, no step-up"


def test_a_drill_that_imitates_the_company_itself_names_it_once(client, drill_settings) -> None:
    # A drill made from a campaign against the company's own brand: "not to a site of Acme Corp", not "... or of
    # Acme Corp" again (seen in docs/screenshots/drill-lesson.png).
    recipient = make_recipient(make_simulation(brand="Acme Corp"))
    page = client.get(f"/s/{recipient.rid}/lesson").content.decode()
    assert "not to a site of Acme Corp." in page
    assert "or of Acme Corp" not in page


def test_a_submit_leads_to_the_lesson_which_mentions_the_key_touch(client, drill_settings) -> None:
    without_the_lesson_module()
    recipient = make_recipient()
    response = client.post(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE)
    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    assert "This was a drill" in page
    assert "Nothing you typed was sent anywhere or kept" in page
    assert "touch your security key" in page
    assert "module on phishing texts" not in page, "no such module here: none assigned, none promised"


def test_the_lesson_works_without_configured_numbers(client) -> None:
    recipient = make_recipient(make_simulation(template="Your parcel is held: {link}"))
    response = client.get(f"/s/{recipient.rid}/lesson")
    assert response.status_code == 200
    page = response.content.decode()
    assert "a number smishguard does not use" in page
    assert "to the security team's reporting number" in page
    assert "push you to act before you think" in page
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_lesson_records_nothing(client) -> None:
    recipient = make_recipient()
    client.get(f"/s/{recipient.rid}/lesson", HTTP_USER_AGENT=IPHONE)
    recipient.refresh_from_db()
    assert recipient.clicked_at is None
    assert recipient.events.count() == 0
