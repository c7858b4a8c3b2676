"""The security team's compliance pages: /console/training/compliance/ (assignments, who is overdue)."""

from __future__ import annotations

from django.urls import path

from smishguard.training import compliance_views

app_name = "compliance"
urlpatterns = [
    path("", compliance_views.table, name="table"),
    path("assign/", compliance_views.assign, name="assign"),
]
