from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "smishguard.accounts"
    label = "accounts"
    verbose_name = "Employees and sessions"
