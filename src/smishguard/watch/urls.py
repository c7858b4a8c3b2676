"""Console pages of the CT watch, mounted at console/watch/."""

from django.urls import path

from smishguard.watch import views

app_name = "watch"

urlpatterns = [
    path("", views.alerts, name="alerts"),
    path("alerts/<int:pk>", views.alert, name="alert"),
    path("alerts/<int:pk>/status", views.alert_status, name="alert-status"),
    path("logs", views.logs, name="logs"),
]
