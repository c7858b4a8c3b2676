from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and response"

    def ready(self) -> None:
        from smishguard.messaging import inbound
        from smishguard.reports import intake, signals

        signals.connect()
        # Every text no other handler claims (a training simulation, say) becomes a report: reports is last.
        inbound.register("reports", intake.handle_inbound_text, order=inbound.LAST)
