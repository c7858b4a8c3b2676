from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and response"

    def ready(self) -> None:
        from smishguard.messaging import inbound
        from smishguard.reports import alerting, intake, signals

        signals.connect()
        alerting.register()  # the security team's alerts about a campaign: an outbox kind
        # Every text no other handler claims (a training simulation, say) becomes a report: reports is last.
        inbound.register("reports", intake.handle_inbound_text, order=inbound.LAST)
