from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and detection"

    def ready(self) -> None:
        from smishguard.accounts import nav, scopes
        from smishguard.messaging import inbound
        from smishguard.reports import intake, signals

        signals.connect()
        # Every text no other handler claims (a training simulation, say) becomes a report: reports is last.
        inbound.register("reports", intake.handle_inbound_text, order=inbound.LAST)

        # API-token scopes, in the order the console offers them.  "scan" is POST /api/scan's, registered here
        # while that endpoint is reports' (it moves to the detection app, whose ready() will register it).
        scopes.register("scan", description="check a text: POST /api/scan")
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
        # The "Detection" section is shared with watch (and, later, the detection app): same fields, added once.
        nav.register_section("detection", heading="Detection", order=30, admin_only=True)
        nav.register("brands", label="Protected brands", url_name="reports:brands", section="detection", order=10)
        nav.register("reports-inbox", label="Reported texts", url_name="reports:inbox", section="detection", order=20)
        nav.register("campaigns", label="Campaigns", url_name="reports:campaigns", section="detection", order=30)
        nav.register("blocklist", label="Blocklist", url_name="reports:blocklist", section="detection", order=40)
        nav.register("tokens", label="API tokens", url_name="reports:tokens", section="detection", order=70)
