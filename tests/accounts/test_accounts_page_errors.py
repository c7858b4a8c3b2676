"""Issue 12, item 3: one conversion for HTML pages.  A page whose view raises one of our errors answers with the
message, never a 500: flashed and sent back to the page the form was on when the Referer is this site, else an
error page with the error's status.  StepUpRequired still gets the "touch your key" page."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("error_views")]


def test_an_error_with_a_same_site_referer_is_flashed_and_sent_back():
    client = Client()
    response = client.post("/console/test/conflict", HTTP_REFERER="http://testserver/console/campaigns/3?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/console/campaigns/3?page=2"
    flashed = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert flashed == [("error", "that campaign is already closed")]


@pytest.mark.parametrize("referer", [None, "https://evil.example/console/", "//evil.example/x", "javascript:alert(1)"])
def test_an_error_without_a_safe_referer_is_an_error_page_with_its_status(referer):
    client = Client()
    extra = {"HTTP_REFERER": referer} if referer else {}
    response = client.post("/console/test/conflict", **extra)
    assert response.status_code == 409
    assert "that campaign is already closed" in response.content.decode()
    assert "evil.example" not in response.get("Location", "")


def test_step_up_required_still_asks_for_a_key_touch():
    response = Client().post("/console/test/stepup", HTTP_REFERER="http://testserver/console/")
    assert response.status_code == 403
    assert next(t.name for t in response.templates) == "passkeys/stepup.html"
