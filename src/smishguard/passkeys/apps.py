from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "smishguard.passkeys"
    label = "passkeys"
    verbose_name = "Security keys"

    def ready(self) -> None:
        from smishguard.passkeys import alerts, receivers

        receivers.connect()  # offboarding (accounts' signal) revokes the employee's keys
        # A key flagged as possibly cloned: the security team's alert, through the outbox (no campaign needed).
        alerts.connect()
