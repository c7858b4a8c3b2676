"""Portal pages of the reports app (mounted at /portal/)."""

from django.urls import path

from smishguard.reports import portal_views

app_name = "reports_portal"

urlpatterns = [
    path("report", portal_views.report_text, name="report"),
]
