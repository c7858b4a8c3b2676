from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "smishguard.watch"
    label = "watch"
    verbose_name = "Certificate Transparency watch"

    def ready(self) -> None:
        from smishguard.accounts import nav
        from smishguard.watch import sinks

        sinks.register()  # the CT alerts' webhook sink: an outbox kind
        # The "Detection" section is shared with detection and reports: same fields, added once.
        nav.register_section("detection", heading="Detection", order=30, admin_only=True)
        nav.register("watch-alerts", label="Lookalike alerts", url_name="watch:alerts", section="detection", order=50)
        nav.register("watch-logs", label="CT logs", url_name="watch:logs", section="detection", order=60)
