"""The gateway's console pages, under /console/gateway/."""

from django.urls import path

from smishguard.gateway import console

app_name = "gateway_console"

urlpatterns = [
    path("rules", console.rules_page, name="rules"),
]
