from django.apps import AppConfig


class RateLimitsConfig(AppConfig):
    name = "smishguard.ratelimits"
    label = "ratelimits"
    verbose_name = "Rate-limit counters"
