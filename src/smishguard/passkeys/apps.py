from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "smishguard.passkeys"
    label = "passkeys"
    verbose_name = "Security keys"

    def ready(self) -> None:
        from smishguard.passkeys import receivers

        receivers.connect()
