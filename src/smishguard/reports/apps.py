from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "smishguard.reports"
    label = "reports"
    verbose_name = "Reports and detection"
