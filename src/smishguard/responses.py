"""The JSON error body, one shape for every edge that answers JSON: ``{"error": {"code", "message", ...}}``.

The API's exception handlers (``smishguard.api``), the guards and middleware below it (``accounts.guards``,
``accounts.middleware``, ``accounts.throttle``) and the URL-level handlers all build it here, so an app can answer
with it without importing the API, which mounts every app's router.
"""

from __future__ import annotations

from django.http import JsonResponse

# The error's code, kept on the response for smishguard.metrics (refusals by reason).
REFUSAL_ATTRIBUTE = "smishguard_refusal"


def error_response(status: int, code: str, message: str, **extra: object) -> JsonResponse:
    body: dict[str, object] = {"code": code, "message": message}
    body.update(extra)
    response = JsonResponse({"error": body}, status=status)
    setattr(response, REFUSAL_ATTRIBUTE, code)
    return response
