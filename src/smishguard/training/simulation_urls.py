"""The security team's simulation pages: /console/simulations/."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "simulations"
urlpatterns: list[URLPattern] = []
