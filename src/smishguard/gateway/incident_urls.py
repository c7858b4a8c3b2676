"""The console's Incidents page (the breach scope) and its downloads, under /console/incidents/."""

from django.urls import path, re_path

from smishguard.gateway import incident_views

app_name = "incidents"

urlpatterns = [
    path("", incident_views.incidents, name="scope"),
    re_path(r"^scope\.(?P<fmt>json|csv|html)$", incident_views.incidents_download, name="download"),
]
