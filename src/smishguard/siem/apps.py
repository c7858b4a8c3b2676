from django.apps import AppConfig


class SiemConfig(AppConfig):
    name = "smishguard.siem"
    label = "siem"
    verbose_name = "SIEM streams (the audit trail, outward)"

    def ready(self) -> None:
        from smishguard.siem import streaming

        streaming.register()
