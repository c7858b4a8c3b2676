"""The console's containment release (under /console/gateway/release/)."""

from django.urls import path

from smishguard.gateway import release_views

app_name = "gateway_release"

urlpatterns = [
    path("<int:pk>", release_views.request_release, name="request"),
]
