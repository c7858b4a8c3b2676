from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "smishguard.audit"
    label = "audit"
    verbose_name = "Audit trail"
