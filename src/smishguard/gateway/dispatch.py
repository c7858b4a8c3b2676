"""Which check view a path is, without Django's URL resolver: for ``smishguard.wsgi``'s short way (DESIGN.md, hot
paths), which sends a check straight to its view.  The same views ``gateway.urls`` routes these paths to
(tests/gateway/test_gateway_dispatch.py holds the two together)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from smishguard.gateway import views
from smishguard.gateway.middleware import PREFIX

_EXACT: dict[str, Callable[..., HttpResponse]] = {
    f"{PREFIX}auth-request": views.auth_request,
    f"{PREFIX}forward-auth": views.forward_auth,
    f"{PREFIX}ext-authz": views.ext_authz,
}
_EXT_AUTHZ_PATH = f"{PREFIX}ext-authz/"  # Envoy's path_prefix, then the original path


def view_for(path_info: str) -> Callable[[HttpRequest], HttpResponse] | None:
    """The check view for ``path_info`` (a WSGI ``PATH_INFO``), or None for any other path: those go through
    Django (an unknown ``/api/authz/...`` gets the JSON 404 there)."""
    if not path_info.startswith(PREFIX):
        return None
    return _EXACT.get(path_info) or (views.ext_authz if path_info.startswith(_EXT_AUTHZ_PATH) else None)
