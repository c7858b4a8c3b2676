from django.apps import AppConfig

from smishguard.detection.apps import NAV_SECTION  # the section detection adds


class WatchConfig(AppConfig):
    name = "smishguard.watch"
    label = "watch"
    verbose_name = "Certificate Transparency watch"

    def ready(self) -> None:
        from smishguard import metrics
        from smishguard.accounts import nav
        from smishguard.watch import metrics as watch_metrics
        from smishguard.watch import sinks

        sinks.register()  # the CT alerts' webhook sink: an outbox kind
        metrics.register_collector("watch", watch_metrics.collect)  # CT lag, for GET /metrics
        nav.register("watch-alerts", label="Lookalike alerts", url_name="watch:alerts", section=NAV_SECTION, order=50)
        nav.register("watch-logs", label="CT logs", url_name="watch:logs", section=NAV_SECTION, order=60)
