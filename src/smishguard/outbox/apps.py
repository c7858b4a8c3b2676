from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "smishguard.outbox"
    label = "outbox"
    verbose_name = "Outbox (outgoing calls)"

    def ready(self) -> None:
        from smishguard.outbox import alerts

        alerts.register()
