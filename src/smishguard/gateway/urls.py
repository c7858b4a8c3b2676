"""The gateway's check endpoints, under /api/authz/ (mounted before the JSON API in smishguard.urls)."""

from django.urls import path, re_path

from smishguard.gateway import views

app_name = "gateway"

urlpatterns = [
    path("auth-request", views.auth_request, name="auth-request"),
    path("forward-auth", views.forward_auth, name="forward-auth"),
    # Envoy's path_prefix /api/authz/ext-authz, then the original path (and query).  The view reads the raw
    # request target, not this match (PATH_INFO is already decoded); [\s\S]: a decoded newline still gets here.
    path("ext-authz", views.ext_authz, name="ext-authz"),
    re_path(r"^ext-authz/[\s\S]*\Z", views.ext_authz, name="ext-authz-path"),
]
