from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "smishguard.gateway"
    label = "gateway"
    verbose_name = "Gateway (route policy for the internal apps)"

    def ready(self) -> None:
        from smishguard.gateway import rules

        rules.current()  # a policy that does not load refuses the start (one ConfigError line)
