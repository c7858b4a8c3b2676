"""The tracked link of a simulation, /s/<rid>, and the lesson it leads to."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "landing"
urlpatterns: list[URLPattern] = []
