from django.apps import AppConfig

from smishguard.detection.apps import NAV_SECTION  # the section detection adds


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and response"

    def ready(self) -> None:
        from smishguard.accounts import nav, scopes
        from smishguard.messaging import inbound
        from smishguard.reports import alerting, intake, signals

        signals.connect()
        alerting.register()  # the security team's alerts about a campaign: an outbox kind
        # Every text no other handler claims (a training simulation, say) becomes a report: reports is last.
        inbound.register("reports", intake.handle_inbound_text, order=inbound.LAST)

        # API-token scopes, after detection's "scan" (INSTALLED_APPS order): the order the console offers them.
        scopes.register("reports", description="report texts and read reports and campaigns")
        scopes.register("blocklists", description="read the blocklists and the STIX bundles")
        scopes.register(
            "reports:attribute",
            description="with reports: name the employee who reported (the report then counts as theirs)",
            requires="reports",
        )

        nav.register(
            "report-text", label="Report a text", url_name="reports_portal:report", section=nav.ACCOUNT, order=40
        )
        nav.register("reports-inbox", label="Reported texts", url_name="reports:inbox", section=NAV_SECTION, order=20)
        nav.register("campaigns", label="Campaigns", url_name="reports:campaigns", section=NAV_SECTION, order=30)
        nav.register("blocklist", label="Blocklist", url_name="reports:blocklist", section=NAV_SECTION, order=40)
        nav.register("tokens", label="API tokens", url_name="reports:tokens", section=NAV_SECTION, order=70)
