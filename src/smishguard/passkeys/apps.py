from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "smishguard.passkeys"
    label = "passkeys"
    verbose_name = "Security keys"

    def ready(self) -> None:
        from smishguard.accounts import nav, panels
        from smishguard.passkeys import alerts, receivers
        from smishguard.passkeys.views import employee_keys

        receivers.connect()  # offboarding (accounts' signal) revokes the employee's keys
        # A key flagged as possibly cloned: the security team's alert, through the outbox (no campaign needed).
        alerts.connect()
        nav.register("keys", label="My security keys", url_name="passkeys:portal-keys", section=nav.ACCOUNT, order=20)
        nav.register(
            "coverage", label="Key coverage", url_name="passkeys:console-coverage", section=nav.CONSOLE, order=30
        )
        # The console's employee page (accounts') shows the employee's keys, and words its enrolment advice by them.
        panels.register_employee_panel(
            "keys", template="passkeys/console/_employee_keys.html", context=employee_keys, order=10
        )
