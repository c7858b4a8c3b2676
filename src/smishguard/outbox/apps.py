from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "smishguard.outbox"
    label = "outbox"
    verbose_name = "Outbox (outgoing calls)"

    def ready(self) -> None:
        from smishguard import metrics
        from smishguard.outbox import alerts
        from smishguard.outbox import metrics as outbox_metrics

        alerts.register()
        metrics.register_collector("outbox", outbox_metrics.collect)
