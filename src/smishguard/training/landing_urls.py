"""The tracked link of a simulation, /s/<rid>, and the lesson it leads to (mounted at ``s/``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from smishguard.training import landing_views

app_name = "landing"
urlpatterns: list[URLPattern] = [
    path("<str:rid>", landing_views.tracked_link, name="link"),
    path("<str:rid>/lesson", landing_views.lesson, name="lesson"),
]
