from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "smishguard.watch"
    label = "watch"
    verbose_name = "Certificate Transparency watch"
