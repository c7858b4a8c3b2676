from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "smishguard.detection"
    label = "detection"
    verbose_name = "Detection"
