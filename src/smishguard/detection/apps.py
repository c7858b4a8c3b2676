from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "smishguard.detection"
    label = "detection"
    verbose_name = "Detection"

    def ready(self) -> None:
        from smishguard.accounts import nav, scopes

        scopes.register("scan", description="check a text: POST /api/scan")
        # The "Detection" section is shared with watch and reports: same fields, added once.
        nav.register_section("detection", heading="Detection", order=30, admin_only=True)
        nav.register("brands", label="Protected brands", url_name="detection:brands", section="detection", order=10)
