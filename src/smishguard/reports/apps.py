from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and detection"

    def ready(self) -> None:
        from smishguard.reports import signals

        signals.connect()
