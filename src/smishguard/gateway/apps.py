from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "smishguard.gateway"
    label = "gateway"
    verbose_name = "Gateway (route policy for the internal apps)"

    def ready(self) -> None:
        from smishguard.accounts import redirects
        from smishguard.gateway import rules

        rules.current()  # a policy that does not load refuses the start (one ConfigError line)
        # A sign-in may return to the hosts the gateway protects (the sign-in page's rd): accounts' one function.
        redirects.register_return_host_check(rules.protects_host)

        # The breach scope (smishguard incident scope): [incident] is checked at start, its page is in the console.
        from smishguard.accounts import nav
        from smishguard.gateway import drafts

        drafts.current()
        nav.register("incidents", label="Incidents", url_name="incidents:scope", section=nav.CONSOLE, order=60)
