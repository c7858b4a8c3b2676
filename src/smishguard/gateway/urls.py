"""The gateway's check endpoints, under /api/authz/ (mounted before the JSON API in smishguard.urls)."""

from django.urls import path

from smishguard.gateway import views

app_name = "gateway"

urlpatterns = [
    path("auth-request", views.auth_request, name="auth-request"),
]
