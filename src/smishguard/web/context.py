"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    is_admin = bool(signed_in and user.is_admin)
    context: dict[str, object] = {"signed_in": signed_in, "is_admin": is_admin, "current_user": user}
    if is_admin:
        from smishguard.accounts.models import RecoveryRequest

        context["pending_recovery_count"] = RecoveryRequest.objects.filter(
            status=RecoveryRequest.Status.PENDING
        ).count()
    match = getattr(request, "resolver_match", None)
    context["url_name"] = match.url_name if match is not None else ""
    return context
