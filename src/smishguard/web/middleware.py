"""Middleware of the web app."""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty


class MessageMiddleware(_MessageMiddleware):
    """Django's message middleware, with the storage made the first time a view or template uses it.

    Django's makes the message storage (it parses the messages cookie) for every request and asks it to save on
    every response, JSON API calls included; on the sign-in endpoints that was about 5% of the server's time.
    A storage nobody used has nothing to save (Django's own ``update`` stores only when messages were read or
    added), so a request that never touched it is answered as it is.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "sg_no_store", False):
            add_never_cache_headers(response)  # the page shows a secret once (an issued enrolment link)
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
