from django.apps import AppConfig

# The console's "Detection" menu section: detection adds it; watch and reports (above it) add their entries to it.
NAV_SECTION = "detection"


class DetectionConfig(AppConfig):
    name = "smishguard.detection"
    label = "detection"
    verbose_name = "Detection"

    def ready(self) -> None:
        from smishguard.accounts import nav, scopes

        scopes.register("scan", description="check a text: POST /api/scan")
        nav.register_section(NAV_SECTION, heading="Detection", order=30, admin_only=True)
        nav.register("brands", label="Protected brands", url_name="detection:brands", section=NAV_SECTION, order=10)
