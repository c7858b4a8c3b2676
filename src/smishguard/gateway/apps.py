from django.apps import AppConfig

# The console's "Gateway" menu section (the rules; incidents and containment add their entries to it).
NAV_SECTION = "gateway"


class GatewayConfig(AppConfig):
    name = "smishguard.gateway"
    label = "gateway"
    verbose_name = "Gateway (route policy for the internal apps)"

    def ready(self) -> None:
        from smishguard.accounts import nav, redirects
        from smishguard.gateway import drafts, rules

        rules.current()  # a policy that does not load refuses the start (one ConfigError line)
        # A sign-in may return to the hosts the gateway protects (the sign-in page's rd): accounts' one function.
        redirects.register_return_host_check(rules.protects_host)
        nav.register_section(NAV_SECTION, heading="Gateway", order=25, admin_only=True)
        nav.register(
            "gateway-rules", label="Access rules", url_name="gateway_console:rules", section=NAV_SECTION, order=10
        )
        # The breach scope (smishguard incident scope): [incident] is checked at start, its page is in the menu.
        drafts.current()
        nav.register("incidents", label="Incidents", url_name="incidents:scope", section=NAV_SECTION, order=20)
        self._register_containment()

    def _register_containment(self) -> None:
        """Containment's release: a four-eyes request kind (accounts.approvals) and the employee page's panel."""
        from smishguard.accounts import panels
        from smishguard.gateway import containment
        from smishguard.gateway.release_views import employee_containment

        containment.register()
        panels.register_employee_panel(
            "gateway-containment",
            template="gateway/console/_employee_containment.html",
            context=employee_containment,
            order=20,  # after the keys (10); it shows only while the employee is contained
        )
