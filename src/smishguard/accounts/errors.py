"""The accounts app's narrow failures: its services' and tokens' refusals, and those other apps raise too (the
HTTP edge's guards, the step-up guard, an employee who is not active)."""

from __future__ import annotations

from smishguard.errors import Conflict, PermissionDenied, SmishguardError


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


class InvalidEmployee(SmishguardError):
    """The employee's details are not valid."""

    code = "invalid_employee"


class EmployeeExists(Conflict):
    """An employee with that email already exists."""

    code = "employee_exists"


class EmployeeNotActive(PermissionDenied):
    """The employee's account is suspended or offboarded."""

    code = "employee_not_active"
    status = 403  # one class for the console, the CLI and sign-in (the sign-in API answers 403)


class EnrolmentNotNeeded(Conflict):
    """The employee already has a security key; they add backup keys from their portal."""

    code = "enrolment_not_needed"


class BreakGlassReasonRequired(SmishguardError):
    """Issuing a recovery link without four eyes (break glass) needs a reason for the audit trail."""

    code = "break_glass_reason_required"


class BreakGlassRefused(Conflict):
    """Break glass is for when no admin can approve a recovery; one can, so the four-eyes request is the way."""

    code = "break_glass_refused"


class FourEyesRequired(PermissionDenied):
    """A four-eyes request must be approved by a second, eligible admin (not the one who asked for it)."""

    code = "four_eyes_required"


class LinkCutoffInFuture(SmishguardError):
    """The cut-off for expiring links is in the future."""

    code = "cutoff_in_future"


class EnrolmentLinkInvalid(SmishguardError):
    """This enrolment link is not valid: it is unknown, already used, expired or cancelled."""

    code = "enrolment_link_invalid"
    status = 400


class InvalidToken(SmishguardError):
    """The API token's details are not valid."""

    code = "invalid_token"
