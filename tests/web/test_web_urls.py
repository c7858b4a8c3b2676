"""Every page keeps its path (people bookmark them) now that each app owns its pages (issue 12): the paths web's
urls.py served before, and the view that answers each now."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

PAGES = [
    ("/signin", "passkeys:signin", "smishguard.passkeys.views.signin"),
    ("/signout", "accounts:signout", "smishguard.accounts.views.portal.signout"),
    ("/enrol/tok", "passkeys:enrol", "smishguard.passkeys.views.enrol"),
    ("/stepup", "passkeys:stepup", "smishguard.passkeys.stepup_page.stepup"),
    ("/", "web:portal", "smishguard.web.views.overview"),
    ("/portal/keys", "passkeys:portal-keys", "smishguard.passkeys.views.my_keys"),
    ("/portal/keys/7/rename", "passkeys:portal-key-rename", "smishguard.passkeys.views.rename_key"),
    ("/portal/keys/7/remove", "passkeys:portal-key-remove", "smishguard.passkeys.views.remove_key"),
    ("/portal/sessions", "accounts:portal-sessions", "smishguard.accounts.views.portal.my_sessions"),
    ("/portal/sessions/7/end", "accounts:portal-session-end", "smishguard.accounts.views.portal.end_session"),
    (
        "/portal/sessions/end-others",
        "accounts:portal-sessions-end-others",
        "smishguard.accounts.views.portal.end_other_sessions",
    ),
    ("/console/", "web:console", "smishguard.web.views.console_home"),
    ("/console/employees", "accounts:console-employees", "smishguard.accounts.views.employees.directory"),
    ("/console/employees/new", "accounts:console-employee-add", "smishguard.accounts.views.employees.add"),
    ("/console/employees/import", "accounts:console-import", "smishguard.accounts.views.employees.import_csv"),
    (
        "/console/employees/import/result",
        "accounts:console-import-result",
        "smishguard.accounts.views.employees.import_result",
    ),
    ("/console/employees/7", "accounts:console-employee", "smishguard.accounts.views.employees.detail"),
    ("/console/employees/7/edit", "accounts:console-employee-edit", "smishguard.accounts.views.employees.edit"),
    ("/console/employees/7/suspend", "accounts:console-suspend", "smishguard.accounts.views.employees.suspend"),
    (
        "/console/employees/7/reactivate",
        "accounts:console-reactivate",
        "smishguard.accounts.views.employees.reactivate",
    ),
    ("/console/employees/7/offboard", "accounts:console-offboard", "smishguard.accounts.views.employees.offboard"),
    ("/console/employees/7/invite", "accounts:console-invite", "smishguard.accounts.views.employees.invite"),
    (
        "/console/employees/7/revoke-sessions",
        "accounts:console-revoke-sessions",
        "smishguard.accounts.views.employees.revoke_sessions",
    ),
    (
        "/console/employees/7/keys/8/remove",
        "passkeys:console-key-remove",
        "smishguard.passkeys.views.console_remove_key",
    ),
    ("/console/recovery", "accounts:console-recovery", "smishguard.accounts.views.approvals.recovery"),
    (
        "/console/recovery/7/approve",
        "accounts:console-recovery-approve",
        "smishguard.accounts.views.approvals.approve_recovery",
    ),
    (
        "/console/recovery/7/refuse",
        "accounts:console-recovery-refuse",
        "smishguard.accounts.views.approvals.refuse_recovery",
    ),
    ("/console/coverage", "passkeys:console-coverage", "smishguard.passkeys.views.coverage"),
    ("/console/sessions", "accounts:console-sessions", "smishguard.accounts.views.sessions.all_sessions"),
    (
        "/console/sessions/7/revoke",
        "accounts:console-session-revoke",
        "smishguard.accounts.views.sessions.revoke_session",
    ),
    ("/console/sessions/revoke-all", "accounts:console-revoke-all", "smishguard.accounts.views.sessions.revoke_all"),
    ("/console/audit", "accounts:console-audit", "smishguard.accounts.views.audit.audit"),
    ("/console/audit/export", "accounts:console-audit-export", "smishguard.accounts.views.audit.audit_export"),
]


@pytest.mark.parametrize(("path", "name", "view"), PAGES)
def test_each_page_keeps_its_path(path, name, view):
    match = resolve(path)
    assert f"{match.func.__module__}.{match.func.__name__}" == view
    assert f"{match.namespace}:{match.url_name}" == name
    assert reverse(name, kwargs=match.kwargs) == path
