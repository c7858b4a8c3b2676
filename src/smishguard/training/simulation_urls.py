"""The security team's simulation pages: /console/simulations/."""

from __future__ import annotations

from django.urls import path

from smishguard.training import simulation_views as views

app_name = "simulations"
urlpatterns = [
    path("", views.simulation_list, name="list"),
    path("new", views.simulation_new, name="new"),
    path("<int:pk>", views.simulation_detail, name="detail"),
    path("<int:pk>/launch", views.simulation_launch, name="launch"),
    path("<int:pk>/pause", views.simulation_pause, name="pause"),
    path("<int:pk>/resume", views.simulation_resume, name="resume"),
    path("<int:pk>/cancel", views.simulation_cancel, name="cancel"),
]
