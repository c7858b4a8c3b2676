from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smishguard.messaging"
    label = "messaging"
    verbose_name = "Messaging (Twilio)"

    def ready(self) -> None:
        from smishguard.messaging import broadcast, notices, sending

        notices.connect()
        # SMS sends are an outbox kind; each recovery pass first queues what waited for a Twilio account.
        sending.register(before_recover=broadcast.release_waiting)
