"""The employee's side of training: /learn/ (modules to take, a module, its quiz)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "learn"
urlpatterns: list[URLPattern] = []
