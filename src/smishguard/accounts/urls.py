"""The employee, session, four-eyes and audit-trail pages (accounts.views), at the paths they have always had."""

from django.urls import path

from smishguard.accounts.views import approvals, audit, employees, portal, sessions

app_name = "accounts"

urlpatterns = [
    path("signout", portal.signout, name="signout"),
    # The employee portal
    path("portal/sessions", portal.my_sessions, name="portal-sessions"),
    path("portal/sessions/<int:pk>/end", portal.end_session, name="portal-session-end"),
    path("portal/sessions/end-others", portal.end_other_sessions, name="portal-sessions-end-others"),
    # The console (admins only)
    path("console/employees", employees.directory, name="console-employees"),
    path("console/employees/new", employees.add, name="console-employee-add"),
    path("console/employees/import", employees.import_csv, name="console-import"),
    path("console/employees/import/result", employees.import_result, name="console-import-result"),
    path("console/employees/<int:pk>", employees.detail, name="console-employee"),
    path("console/employees/<int:pk>/edit", employees.edit, name="console-employee-edit"),
    path("console/employees/<int:pk>/suspend", employees.suspend, name="console-suspend"),
    path("console/employees/<int:pk>/reactivate", employees.reactivate, name="console-reactivate"),
    path("console/employees/<int:pk>/offboard", employees.offboard, name="console-offboard"),
    path("console/employees/<int:pk>/invite", employees.invite, name="console-invite"),
    path("console/employees/<int:pk>/revoke-sessions", employees.revoke_sessions, name="console-revoke-sessions"),
    path("console/recovery", approvals.recovery, name="console-recovery"),
    path("console/recovery/<int:pk>/approve", approvals.approve_recovery, name="console-recovery-approve"),
    path("console/recovery/<int:pk>/refuse", approvals.refuse_recovery, name="console-recovery-refuse"),
    path("console/sessions", sessions.all_sessions, name="console-sessions"),
    path("console/sessions/<int:pk>/revoke", sessions.revoke_session, name="console-session-revoke"),
    path("console/sessions/revoke-all", sessions.revoke_all, name="console-revoke-all"),
    path("console/audit", audit.audit, name="console-audit"),
    path("console/audit/export", audit.audit_export, name="console-audit-export"),
]
