from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smishguard.messaging"
    label = "messaging"
    verbose_name = "Messaging (Twilio)"

    def ready(self) -> None:
        from smishguard.messaging import notices

        notices.connect()
