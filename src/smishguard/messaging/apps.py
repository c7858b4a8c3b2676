from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "smishguard.messaging"
    label = "messaging"
    verbose_name = "Messaging (Twilio)"

    def ready(self) -> None:
        from smishguard.messaging import email, notices, sending

        notices.connect()
        email.register()  # e-mail, on Django's mail framework, is an outbox kind too
        # SMS sends are an outbox kind; each recovery pass first queues what waited for a Twilio account and
        # finishes the inbound texts whose handling did not finish.
        sending.register(before_recover=_before_recover)


def _before_recover() -> None:
    from smishguard.messaging import broadcast, inbound

    broadcast.release_waiting()
    inbound.finish_unhandled()
