from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "smishguard.watch"
    label = "watch"
    verbose_name = "Certificate Transparency watch"

    def ready(self) -> None:
        from smishguard.watch import sinks

        sinks.register()  # the CT alerts' webhook sink: an outbox kind
