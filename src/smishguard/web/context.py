"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from smishguard.accounts import nav


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    is_admin = bool(signed_in and user.is_admin)
    context: dict[str, object] = {"signed_in": signed_in, "is_admin": is_admin, "current_user": user}
    match = getattr(request, "resolver_match", None)
    context["url_name"] = match.url_name if match is not None else ""
    # The menu, from the entries every app registered (accounts.nav), built only when a page shows it;
    # base.html marks the entry whose key is the page's "nav" value as the current page.
    context["menu"] = SimpleLazyObject(lambda: nav.menu(request, is_admin=is_admin))
    return context


def issued_links(request: HttpRequest) -> dict[str, object]:
    """Enrolment links issued by this admin's last action, shown once (accounts.notices): read, and deleted,
    only when a page actually shows them; a page that does marks its response not to be stored."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_admin:
        return {"issued_links": ()}

    def take() -> list[dict[str, str]]:
        from smishguard.accounts import notices

        links = notices.take(request)
        if links:
            request.sg_no_store = True  # type: ignore[attr-defined]
        return links

    return {"issued_links": SimpleLazyObject(take)}
