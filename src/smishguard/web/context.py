"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "signed_in": bool(user is not None and user.is_authenticated),
        "is_admin": bool(user is not None and user.is_authenticated and user.is_admin),
    }
