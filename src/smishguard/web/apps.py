from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "smishguard.web"
    label = "web"
    verbose_name = "Portal and console"

    def ready(self) -> None:
        from smishguard.accounts import nav

        nav.register("overview", label="Overview", url_name="web:portal", section=nav.ACCOUNT, order=10)
