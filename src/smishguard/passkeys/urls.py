"""The security-key pages (passkeys.views, passkeys.stepup_page), at the paths they have always had."""

from django.urls import path

from smishguard.passkeys import stepup_page, views

app_name = "passkeys"

urlpatterns = [
    # Signing in and enrolling
    path("signin", views.signin, name="signin"),
    path("enrol/<str:token>", views.enrol, name="enrol"),
    path("stepup", stepup_page.stepup, name="stepup"),
    # The employee portal
    path("portal/keys", views.my_keys, name="portal-keys"),
    path("portal/keys/<int:pk>/rename", views.rename_key, name="portal-key-rename"),
    path("portal/keys/<int:pk>/remove", views.remove_key, name="portal-key-remove"),
    # The console (admins only)
    path("console/coverage", views.coverage, name="console-coverage"),
    path("console/employees/<int:pk>/keys/<int:key_pk>/remove", views.console_remove_key, name="console-key-remove"),
]
