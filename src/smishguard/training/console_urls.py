"""The security team's training pages: /console/training/ (modules, assignments, compliance)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "training"
urlpatterns: list[URLPattern] = []
