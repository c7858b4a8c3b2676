"""Issue 12, item 3: every app keeps its exceptions in its own errors.py, and one failure has one class."""

from __future__ import annotations

from smishguard.accounts import errors as accounts_errors
from smishguard.passkeys import errors as passkeys_errors


def test_one_employee_not_active_for_the_console_the_cli_and_sign_in():
    assert not hasattr(passkeys_errors, "EmployeeNotActive")  # sign-in raises the accounts one
    assert accounts_errors.EmployeeNotActive.status == 403  # the sign-in API's answer, which its tests assert
    assert accounts_errors.EmployeeNotActive.code == "employee_not_active"


def test_the_accounts_services_errors_live_in_accounts_errors():
    for name in (
        "InvalidEmployee",
        "EmployeeExists",
        "EnrolmentNotNeeded",
        "BreakGlassReasonRequired",
        "BreakGlassRefused",
        "FourEyesRequired",
        "LinkCutoffInFuture",
        "EnrolmentLinkInvalid",
        "InvalidToken",
    ):
        cls = getattr(accounts_errors, name)
        assert cls.__module__ == "smishguard.accounts.errors", name


def test_the_reports_errors_live_in_reports_errors():
    from smishguard.reports import errors as reports_errors

    # InvalidBrand moved with the brands: tests/detection/test_detection_errors.py.
    for name in (
        "InvalidReport",
        "ReportRateLimited",
        "AttributionNotAllowed",
        "AlreadyWarned",
        "NothingToBlock",
        "WarningNotQueued",
        "NotOnBlocklist",
        "InvalidStatus",
    ):
        assert getattr(reports_errors, name).__module__ == "smishguard.reports.errors", name
