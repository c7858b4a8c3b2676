from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "smishguard.web"
    label = "web"
    verbose_name = "Portal and console"
