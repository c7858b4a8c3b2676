"""The accounts app's narrow failures that other apps raise too: the HTTP edge's guards and the step-up guard.

The services' own errors are beside them in services.py.
"""

from __future__ import annotations

from smishguard.errors import PermissionDenied, SmishguardError


class CrossOriginRequest(PermissionDenied):
    """This request did not come from smishguard's own pages (its Origin or Sec-Fetch-Site says another site)."""

    code = "cross_origin_request"


class UnsupportedMediaType(SmishguardError):
    """This endpoint takes a JSON body (Content-Type: application/json)."""

    code = "unsupported_media_type"
    status = 415


class CsrfFailed(PermissionDenied):
    """The CSRF token is missing or wrong; reload the page."""

    code = "csrf_failed"


class StepUpRequired(PermissionDenied):
    """Touch one of your security keys first: this action needs a recent key touch in this session."""

    code = "step_up_required"
