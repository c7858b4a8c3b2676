"""The security team's compliance pages: /console/training/compliance/ (assignments, who is overdue)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "compliance"
urlpatterns: list[URLPattern] = []
