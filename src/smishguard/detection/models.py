"""Protected brands and extra identity/IT keywords, as the security team edits them in the console.

Moved from ``reports`` (issue 12): the rows were kept, the tables renamed ``detection_brand``/``detection_keyword``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)
    domains = models.JSONField(default=list, help_text="official registrable domains, never flagged")
    tokens = models.JSONField(default=list, blank=True, help_text="extra strings that stand for the brand")
    partners = models.JSONField(
        default=list, blank=True, help_text="partners' domains that legitimately carry the brand, never flagged"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


class Keyword(models.Model):
    """An identity/IT keyword added to the engine's built-in list (sso, okta, vpn, ...)."""

    word = models.CharField(max_length=50, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word
