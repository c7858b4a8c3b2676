"""The home pages: the employee portal's overview and the console's front door."""

from django.urls import path

from smishguard.web import views

app_name = "web"

urlpatterns = [
    path("", views.overview, name="portal"),
    path("console/", views.console_home, name="console"),
]
