"""The security team's training pages: /console/training/ (modules, assignments, compliance)."""

from __future__ import annotations

from django.urls import path

from smishguard.training import module_views

app_name = "training"
urlpatterns = [
    path("", module_views.module_list, name="modules"),
    path("modules/new", module_views.module_new, name="module_new"),
    path("modules/<slug:slug>/", module_views.module_detail, name="module"),
    path("modules/<slug:slug>/edit", module_views.module_edit, name="module_edit"),
    path("modules/<slug:slug>/preview", module_views.module_preview, name="module_preview"),
    path("modules/<slug:slug>/archive", module_views.module_archive, name="module_archive"),
]
