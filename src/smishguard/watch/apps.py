from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "smishguard.watch"
    label = "watch"
    verbose_name = "Certificate Transparency watch"

    def ready(self) -> None:
        from smishguard.accounts import nav

        # The "Detection" section is shared with reports (and, later, the detection app): same fields, added once.
        nav.register_section("detection", heading="Detection", order=30, admin_only=True)
        nav.register("watch-alerts", label="Lookalike alerts", url_name="watch:alerts", section="detection", order=50)
        nav.register("watch-logs", label="CT logs", url_name="watch:logs", section="detection", order=60)
