from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "smishguard.accounts"
    label = "accounts"
    verbose_name = "Employees and sessions"

    def ready(self) -> None:
        from smishguard.accounts import nav
        from smishguard.accounts.views.approvals import pending_requests

        nav.register_section(nav.ACCOUNT, heading="My account", order=10, admin_only=False)
        nav.register_section(nav.CONSOLE, heading="Security console", order=20, admin_only=True)
        nav.register(
            "sessions", label="My sessions", url_name="accounts:portal-sessions", section=nav.ACCOUNT, order=30
        )
        nav.register(
            "employees", label="Employees", url_name="accounts:console-employees", section=nav.CONSOLE, order=10
        )
        nav.register(
            "recovery",
            label="Four-eyes requests",
            url_name="accounts:console-recovery",
            section=nav.CONSOLE,
            order=20,
            badge=pending_requests,
        )
        nav.register(
            "console-sessions",
            label="Live sessions",
            url_name="accounts:console-sessions",
            section=nav.CONSOLE,
            order=40,
        )
        nav.register("audit", label="Audit trail", url_name="accounts:console-audit", section=nav.CONSOLE, order=50)
