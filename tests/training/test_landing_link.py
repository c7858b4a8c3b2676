"""The tracked link /s/<rid>: a real browser's visit is a click (an event each time, the time of the first kept)
and shows a plain sign-in page; link-preview fetchers (their real user agents) and HEAD requests get the page or
a bare 200 and are not clicks; an unknown link is a plain 404 like any other; the lesson is assigned."""

from __future__ import annotations

import dataclasses
import re

import pytest
import time_machine
from django.utils import timezone
from landing_fixtures import (
    BROWSERS,
    PREVIEW_FETCHERS,
    make_lesson_module,
    make_recipient,
    new_rid,
    without_the_lesson_module,
)

from smishguard.audit.models import Event
from smishguard.training import landing
from smishguard.training.models import Assignment, Recipient, SimulationEvent

pytestmark = pytest.mark.django_db

IPHONE = BROWSERS["Safari on iPhone"]


def events(recipient: Recipient, kind: str | None = None) -> list[SimulationEvent]:
    rows = SimulationEvent.objects.filter(recipient=recipient).order_by("at", "pk")
    return list(rows.filter(kind=kind) if kind else rows)


def with_training(settings, **changes) -> None:
    smishguard = settings.SMISHGUARD
    settings.SMISHGUARD = dataclasses.replace(smishguard, training=dataclasses.replace(smishguard.training, **changes))


@pytest.mark.parametrize("browser", sorted(BROWSERS))
def test_a_real_browser_visit_is_a_click_and_shows_a_sign_in_page(client, settings, browser) -> None:
    with_training(settings, company="Acme Corp")
    recipient = make_recipient()
    response = client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=BROWSERS[browser])
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Sign in</h1>" in page
    assert "Acme Corp" in page
    assert 'type="password"' in page
    assert 'id="drill-user"' in page
    assert "<img" not in page, "no logos: a generic sign-in page"
    assert "<svg" not in page, "no logos: a generic sign-in page"
    assert "smishguard" not in page.lower(), "nothing on the page gives the drill away"
    assert re.search(r"<input[^>]*\bname=", page) is None, "the fields have no name: a browser sends none of them"
    recipient.refresh_from_db()
    assert recipient.clicked_at is not None
    assert [(e.kind, e.via) for e in events(recipient)] == [("clicked", "browser")]
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_names_the_company_from_training_else_rp_name(client, settings) -> None:
    recipient = make_recipient()
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rp_name="Acme Corp")
    assert "Acme Corp" in client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).content.decode()
    with_training(settings, company="Initech")
    page = client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).content.decode()
    assert "Initech" in page
    assert "Acme Corp" not in page


def test_each_click_is_an_event_and_the_first_keeps_its_time(client) -> None:
    recipient = make_recipient()
    first = timezone.now()
    with time_machine.travel(first, tick=False):
        client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE)
    with time_machine.travel(first + timezone.timedelta(minutes=5), tick=False):
        client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=BROWSERS["Chrome on Android"])
    recipient.refresh_from_db()
    assert recipient.clicked_at == first
    clicks = events(recipient, "clicked")
    assert len(clicks) == 2
    assert clicks[1].at - clicks[0].at == timezone.timedelta(minutes=5)


@pytest.mark.parametrize("fetcher", sorted(PREVIEW_FETCHERS))
def test_a_link_preview_fetcher_gets_the_page_but_is_not_a_click(client, fetcher) -> None:
    recipient = make_recipient()
    response = client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=PREVIEW_FETCHERS[fetcher])
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()
    recipient.refresh_from_db()
    assert recipient.clicked_at is None
    assert events(recipient) == []


def test_preview_fetchers_are_told_apart_from_browsers() -> None:
    for name, agent in PREVIEW_FETCHERS.items():
        assert landing.is_preview_fetcher(agent), name
    for name, agent in BROWSERS.items():
        assert not landing.is_preview_fetcher(agent), name
    assert landing.is_preview_fetcher(""), "no user agent: not a person's browser"
    assert landing.is_preview_fetcher("Mozilla/5.0 " + "x" * 5000), "an absurd header is not parsed"


def test_a_head_request_is_a_bare_200_and_not_a_click(client) -> None:
    recipient = make_recipient()
    response = client.head(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE)
    assert response.status_code == 200
    assert response.content == b""
    recipient.refresh_from_db()
    assert recipient.clicked_at is None
    assert events(recipient) == []


@pytest.mark.parametrize("rid", ["unknown-but-well-formed-id", "x", "a" * 200, "%00", "..", "ä-ö"])
def test_an_unknown_link_is_a_plain_404_like_any_other(client, rid) -> None:
    make_recipient()
    known_absent = client.get(f"/s/{new_rid()}", HTTP_USER_AGENT=IPHONE)
    response = client.get(f"/s/{rid}", HTTP_USER_AGENT=IPHONE)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == known_absent.content == b"Not found\n"
    lesson = client.get(f"/s/{rid}/lesson")
    assert (lesson.status_code, lesson.content) == (404, b"Not found\n")
    assert SimulationEvent.objects.count() == 0


def test_other_methods_are_refused_and_count_nothing(client) -> None:
    recipient = make_recipient()
    for method in ("put", "delete", "patch"):
        assert getattr(client, method)(f"/s/{recipient.rid}").status_code == 405
    assert client.post(f"/s/{recipient.rid}/lesson").status_code == 405
    assert events(recipient) == []


def test_a_click_assigns_the_lesson_module_once(client, settings) -> None:
    module = make_lesson_module()
    recipient = make_recipient()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE)
        client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE)
    assignment = Assignment.objects.get(employee=recipient.employee, module=module)
    assert assignment.source == Assignment.Source.SIMULATION
    assert assignment.due_at == now + timezone.timedelta(days=settings.SMISHGUARD.training.lesson_due_days)
    assert assignment.assigned_by == f"simulation:{recipient.simulation_id}"
    assert Event.objects.filter(action="training:assignment:created").count() == 1


def test_without_the_module_a_click_still_counts(client, settings) -> None:
    without_the_lesson_module()
    make_lesson_module("something-else")
    recipient = make_recipient()
    assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
    assert Assignment.objects.count() == 0
    assert len(events(recipient, "clicked")) == 1


def test_a_preview_fetch_assigns_nothing(client) -> None:
    make_lesson_module()
    recipient = make_recipient()
    client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=PREVIEW_FETCHERS["WhatsApp"])
    assert Assignment.objects.count() == 0


def test_the_page_moves_on_to_the_lesson_by_itself(client, settings) -> None:
    recipient = make_recipient()
    page = client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).content.decode()
    seconds = settings.SMISHGUARD.training.lesson_after_seconds
    assert f'<meta http-equiv="refresh" content="{seconds};url=/s/{recipient.rid}/lesson">' in page
    assert f'href="/s/{recipient.rid}/lesson"' in page, "its help links lead to the lesson too"
    with_training(settings, lesson_after_seconds=0)
    assert "http-equiv" not in client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).content.decode()


def test_a_known_and_an_unknown_link_cost_the_same_one_query(client, django_assert_num_queries) -> None:
    """No oracle beyond the 404: a HEAD or a preview fetch of a known link does exactly what an unknown one does
    (one look-up, nothing written; and the rate limit's one counter statement where the counters are in the
    database, SQLite mode: production mode counts them in Redis)."""
    from django.conf import settings
    from django.core.cache import caches

    from smishguard.ratelimits.cache import CounterCache

    statements = 1 + isinstance(caches[settings.RATELIMIT_USE_CACHE], CounterCache)
    recipient = make_recipient()
    for path in (f"/s/{recipient.rid}", f"/s/{new_rid()}", "/s/%00"):
        with django_assert_num_queries(statements):
            client.head(path, HTTP_USER_AGENT=IPHONE)
        with django_assert_num_queries(statements):
            client.get(path, HTTP_USER_AGENT=PREVIEW_FETCHERS["WhatsApp"])
