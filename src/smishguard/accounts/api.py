"""Account endpoints of the JSON API: who am I, sign out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router
from ninja.utils import check_csrf

from smishguard.accounts import sessions
from smishguard.accounts.errors import CsrfFailed
from smishguard.accounts.guards import JSON_OBJECT_BODY, same_origin_json
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.errors import NotAuthenticated

router = Router(tags=["account"])


def current_session(request: HttpRequest) -> Session:
    session = getattr(request, "sg_session", None)
    if session is None:
        raise NotAuthenticated("sign in first")
    return session


@router.get("/me", summary="The signed-in employee", response={200: dict, 401: dict})
def me(request: HttpRequest) -> dict:
    session = current_session(request)
    employee = session.employee
    return {
        "email": employee.email,
        "name": employee.name,
        "auth_method": session.auth_method,
        "authenticated_at": session.created_at.isoformat(),
        "is_admin": employee.is_admin,
    }


@router.post(
    "/session/signout",
    summary="End the current session",
    description="From smishguard's own pages only: a JSON body, a same-origin request and the CSRF token "
    "(X-CSRFToken header).",
    response={200: dict, 401: dict, 403: dict, 415: dict},
    openapi_extra=JSON_OBJECT_BODY,
)
@same_origin_json
def signout(request: HttpRequest) -> HttpResponse:
    session = current_session(request)
    if check_csrf(request) is not None:
        raise CsrfFailed()
    sessions.revoke(
        Session.objects.filter(pk=session.pk),
        reason="signed out",
        request=request,
        action=Action.SESSION_SIGNED_OUT,
    )
    response = JsonResponse({"signed_out": True})
    clear_session_cookie(response)
    return response
