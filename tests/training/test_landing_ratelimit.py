"""The tracked link /s/<rid> is rate-limited per recipient (``[rate_limits] landing_account``) and, for unknown
links only, per client address (``landing_address``, counted when a link misses): under the limits a click, a
submit and the lesson work; over them each gets 429 with Retry-After and a plain page in the drill's style that
names no one, and nothing is recorded (no click, no submit); colleagues behind the same address are not held
back, neither by one person's clicks nor by others' misses; the refusal is audited once per source and window
like every rate-limit refusal, with the rid redacted."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.test import Client
from landing_fixtures import BROWSERS, make_recipient, new_rid

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.config import ConfigError, RateLimits
from smishguard.training.models import Recipient, SimulationEvent

pytestmark = pytest.mark.django_db

IPHONE = BROWSERS["Safari on iPhone"]


@pytest.fixture
def limits(settings, time_machine):
    """Set some rate limits for one test (the others far out of reach), the clock held still so that a
    counter's window cannot turn over in the middle of the test."""
    time_machine.move_to("2026-06-01T09:00:10Z", tick=False)

    def apply(**changes: str) -> None:
        loose = {
            f.name: "100000/m" for f in dataclasses.fields(RateLimits) if f.name.endswith(("_address", "_account"))
        }
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=RateLimits(**{**loose, **changes}))

    return apply


def with_company(settings, company: str) -> None:
    smishguard = settings.SMISHGUARD
    settings.SMISHGUARD = dataclasses.replace(
        smishguard, training=dataclasses.replace(smishguard.training, company=company)
    )


def kinds(recipient: Recipient) -> list[str]:
    return list(SimulationEvent.objects.filter(recipient=recipient).order_by("at", "pk").values_list("kind", flat=True))


def refusals() -> list[Event]:
    return list(Event.objects.filter(action=Action.REQUEST_RATE_LIMITED).order_by("id"))


def assert_refused_page(response, *, company: str, rid: str) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "Too many requests" in page
    assert "Please wait" in page
    assert company in page
    assert "smishguard" not in page.lower(), "a refusal on the drill's host does not give the drill away"
    assert rid not in page
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"


def test_under_the_limit_a_click_a_submit_and_the_lesson_work(client, limits) -> None:
    limits(landing_account="3/m", landing_address="1/m")
    recipient = make_recipient()
    assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
    assert client.post(f"/s/{recipient.rid}", data=b"", content_type="text/plain").status_code == 303
    assert client.get(f"/s/{recipient.rid}/lesson").status_code == 200
    assert kinds(recipient) == ["clicked", "submitted"]
    assert refusals() == []


def test_over_its_limit_a_link_its_submit_and_its_lesson_get_429_and_nothing_is_recorded(
    client, limits, settings
) -> None:
    with_company(settings, "Acme Corp")
    limits(landing_account="2/m")
    recipient = make_recipient()
    for _ in range(2):
        assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
    assert kinds(recipient) == ["clicked", "clicked"]
    submitted_before = Event.objects.filter(action="training:simulation:submitted").count()

    link = f"/s/{recipient.rid}"
    assert_refused_page(client.get(link, HTTP_USER_AGENT=IPHONE), company="Acme Corp", rid=recipient.rid)
    assert_refused_page(client.post(link, data=b"", content_type="text/plain"), company="Acme Corp", rid=recipient.rid)
    assert_refused_page(client.get(f"{link}/lesson"), company="Acme Corp", rid=recipient.rid)
    head = client.head(link)
    assert head.status_code == 429
    assert int(head["Retry-After"]) >= 1

    assert kinds(recipient) == ["clicked", "clicked"], "a refused click or submit records nothing"
    recipient.refresh_from_db()
    assert recipient.submitted_at is None
    assert Event.objects.filter(action="training:simulation:submitted").count() == submitted_before

    other = Client(REMOTE_ADDR="192.0.2.7")  # the limit is the link's, wherever it is opened from
    assert other.get(link, HTTP_USER_AGENT=IPHONE).status_code == 429
    assert kinds(recipient) == ["clicked", "clicked"]


def test_a_whole_office_behind_one_address_clicks_one_drill(client, limits) -> None:
    """One NAT address, many recipients: each link is counted on its own, so nobody is held back."""
    limits(landing_account="2/m", landing_address="2/m")
    first = make_recipient()
    office = [first] + [
        make_recipient(first.simulation, email=f"staff{i}@example.com", name=f"Staff {i}", phone=f"+1415555020{i}")
        for i in range(5)
    ]
    for recipient in office:
        assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
        assert client.post(f"/s/{recipient.rid}", data=b"", content_type="text/plain").status_code == 303
    assert [kinds(r) for r in office] == [["clicked", "submitted"]] * 6
    assert refusals() == []


def test_unknown_links_are_counted_per_address_and_never_hold_back_a_real_one(client, limits) -> None:
    limits(landing_account="5/m", landing_address="3/m")
    recipient = make_recipient()
    for _ in range(3):
        assert client.get(f"/s/{new_rid()}", HTTP_USER_AGENT=IPHONE).status_code == 404
    assert client.get(f"/s/{new_rid()}", HTTP_USER_AGENT=IPHONE).status_code == 429
    assert client.get(f"/s/{new_rid()}/lesson").status_code == 429
    (event,) = refusals()
    assert event.detail["by"] == "address"

    assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200, (
        "a real link is not refused for the misses behind its address"
    )
    assert kinds(recipient) == ["clicked"]
    other = Client(REMOTE_ADDR="192.0.2.7")  # another address's misses have counters of their own
    assert other.get(f"/s/{new_rid()}", HTTP_USER_AGENT=IPHONE).status_code == 404


def test_a_refusal_is_audited_once_per_source_and_window_without_the_rid(client, limits) -> None:
    limits(landing_account="1/m")
    recipient = make_recipient()
    assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
    for _ in range(5):
        assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 429
    (event,) = refusals()
    assert event.actor_label == "anonymous"
    assert event.detail["group"] == "landing"
    assert event.detail["by"] == "account"
    assert event.detail["limit"] == 1
    assert event.detail["window_seconds"] == 60
    assert event.detail["path"] == "/s/[redacted]"
    assert event.subject_label == f"recipient {recipient.pk}"
    assert recipient.rid not in json.dumps([event.subject_label, event.detail])


def test_with_the_limits_off_the_link_is_not_counted(client, settings) -> None:
    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, rate_limits=RateLimits(enabled=False, landing_account="1/m", landing_address="1/m")
    )
    recipient = make_recipient()
    for _ in range(3):
        assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
        assert client.get(f"/s/{new_rid()}", HTTP_USER_AGENT=IPHONE).status_code == 404
    assert kinds(recipient) == ["clicked"] * 3


def test_the_limits_are_settings() -> None:
    assert RateLimits().rate("landing", "account") == (60, 600)
    assert RateLimits().rate("landing", "address") == (120, 600)
    for name in ("landing_address", "landing_account"):
        with pytest.raises(ConfigError, match=rf'\[rate_limits\] {name} must be "N/period"'):
            RateLimits(**{name: "lots"})
