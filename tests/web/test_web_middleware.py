"""The message middleware makes its storage only when something uses it, and then behaves as Django's."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from smishguard.web.middleware import MessageMiddleware


def _run(view, cookies: dict[str, str] | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    response = MessageMiddleware(view)(request)
    return request, response


def test_a_request_that_never_uses_messages_makes_no_storage_and_sets_no_cookie():
    request, response = _run(lambda _req: HttpResponse("ok"), cookies={"messages": "left-over"})
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies


def test_a_message_added_is_stored_in_the_cookie_and_read_back_once():
    _, response = _run(lambda req: (messages.success(req, "Key removed."), HttpResponse("ok"))[1])
    stored = response.cookies["messages"].value
    assert stored

    seen: list[str] = []

    def read(req):
        seen.extend(str(m) for m in messages.get_messages(req))
        return HttpResponse("ok")

    _, response = _run(read, cookies={"messages": stored})
    assert seen == ["Key removed."]
    assert response.cookies["messages"].value == ""  # read, so cleared
    assert response.cookies["messages"]["max-age"] == 0
