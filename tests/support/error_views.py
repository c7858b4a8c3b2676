"""A URL conf for the tests of the HTML edge's error conversion: smishguard's own URLs plus pages whose view
raises one of our errors that nothing in the view catches."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from smishguard.accounts.errors import StepUpRequired
from smishguard.errors import Conflict


def conflicting(request: HttpRequest) -> HttpResponse:
    raise Conflict("that campaign is already closed")


def needs_key_touch(request: HttpRequest) -> HttpResponse:
    raise StepUpRequired("Touch one of your security keys first: changing a test page needs it.")


urlpatterns = [
    path("console/test/conflict", conflicting),
    path("console/test/stepup", needs_key_touch),
    path("", include("smishguard.urls")),
]
