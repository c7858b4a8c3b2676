"""Employee directory, enrolment links and four-eyes recovery (accounts.services)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from smishguard.accounts import errors, services
from smishguard.accounts.models import Employee, EnrolmentLink, RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.errors import NotFound
from smishguard.passkeys.models import Credential

pytestmark = pytest.mark.django_db


def _add(email="ann@example.com", **kw):
    kw.setdefault("name", "Ann Example")
    return services.add_employee(email=email, **kw)


def _give_key(employee, *, revoked=False):
    return Credential.objects.create(
        employee=employee,
        credential_id=f"cred-{employee.pk}-{Credential.objects.count()}".encode(),
        public_key=b"pk",
        revoked_at=timezone.now() if revoked else None,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "not a valid email"),
        ("name", "   ", "a name is required"),
        ("phone", "07700900123", "E.164"),
        ("phone", "+0123456789", "E.164"),
        ("name", "x" * 201, "longer than 200"),
    ],
)
def test_invalid_details_are_refused_and_nothing_is_written(field, value, message):
    details = {"email": "ann@example.com", "name": "Ann"}
    details[field] = value
    with pytest.raises(errors.InvalidEmployee, match=message):
        services.add_employee(**details)
    assert Employee.objects.count() == 0
    assert Event.objects.count() == 0


def test_add_normalises_and_records():
    e = _add(email=" Ann@Example.COM ", phone="+44 7700 900123", groups=["ops", "ops", " sales "], department="IT")
    assert e.email == "ann@example.com"
    assert e.phone == "+447700900123"
    assert sorted(e.groups.values_list("name", flat=True)) == ["ops", "sales"]
    assert not e.has_usable_password()
    event = Event.objects.get(action=Action.EMPLOYEE_CREATED)
    assert event.subject == e
    assert event.detail["groups"] == ["ops", "sales"]  # groups grant access through the gateway: audited


def test_a_change_of_groups_is_audited_with_before_and_after():
    e = _add(groups=["ops"])
    services.update_employee(e, name=e.name, groups=["ops", "support"])
    event = Event.objects.get(action=Action.EMPLOYEE_UPDATED)
    assert event.detail["changes"]["groups"] == [["ops"], ["ops", "support"]]


def test_duplicate_email_is_a_conflict():
    _add()
    with pytest.raises(errors.EmployeeExists):
        _add(email="ANN@example.com")
    assert Employee.objects.count() == 1


def test_import_keeps_good_rows_and_reports_bad_ones_by_line():
    _add(email="old@example.com", name="Old Name")
    csv_text = (
        "email,name,phone,department,groups,admin\n"
        "new1@example.com,New One,+14155550111,Sales,sales;emea,\n"
        "broken,No Email,,,,\n"
        "old@example.com,New Name,,IT,,\n"
        "new2@example.com,,+14155550112,,,\n"
        "new3@example.com,New Three,12345,,,\n"
        "boss@example.com,Boss,,,,yes\n"
    )
    result = services.import_csv(csv_text.encode())
    assert result.created == ("new1@example.com", "boss@example.com")
    assert result.updated == ("old@example.com",)
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (3, "not a valid email address"),
        (5, "a name is required"),
        (6, "phone must be in E.164 form such as +14155550100, not '12345'"),
    ]
    assert Employee.objects.get(email="old@example.com").name == "New Name"
    assert Employee.objects.get(email="boss@example.com").is_admin
    assert sorted(Employee.objects.get(email="new1@example.com").groups.values_list("name", flat=True)) == [
        "emea",
        "sales",
    ]
    assert not Employee.objects.filter(email="new3@example.com").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\xff\xfe\x00bad", "not UTF-8"), (b"mail,fullname\nx,y\n", "header row")],
)
def test_import_refuses_unreadable_files(data, message):
    with pytest.raises(errors.InvalidEmployee, match=message):
        services.import_csv(data)


def test_invite_issues_single_use_link_that_expires():
    e = _add()
    issued = services.invite(e)
    assert issued.url.endswith(f"/enrol/{issued.token}")
    assert issued.expires - timezone.now() > timedelta(hours=23)
    link = services.usable_link(issued.token)
    services.consume_link(link)
    with pytest.raises(errors.EnrolmentLinkInvalid, match="already been used"):
        services.usable_link(issued.token)
    with pytest.raises(errors.EnrolmentLinkInvalid):
        services.consume_link(link)
    actions = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [Action.ENROLMENT_ISSUED, Action.ENROLMENT_USED]


def test_expired_link_is_refused():
    issued = services.invite(_add())
    with (
        time_machine.travel(timezone.now() + timedelta(hours=25)),
        pytest.raises(errors.EnrolmentLinkInvalid, match="expired"),
    ):
        services.usable_link(issued.token)


def test_new_invite_cancels_the_previous_link():
    e = _add()
    first = services.invite(e)
    services.invite(e)
    with pytest.raises(errors.EnrolmentLinkInvalid, match="cancelled"):
        services.usable_link(first.token)


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, None, 12])
def test_unknown_tokens_are_invalid(token):
    with pytest.raises(errors.EnrolmentLinkInvalid):
        services.usable_link(token)


def test_invite_refused_for_suspended_and_for_employee_with_a_key():
    e = _add()
    _give_key(e)
    with pytest.raises(errors.EnrolmentNotNeeded):
        services.invite(e)
    other = _add(email="bo@example.com")
    services.suspend(other)
    with pytest.raises(errors.EmployeeNotActive):
        services.invite(other)


def test_recovery_needs_a_second_admin():
    first = _add(email="first@example.com", is_admin=True)
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        second = _add(email="second@example.com", is_admin=True)  # an admin for a month, with a key as old
        _give_key(second)
    plain = _add(email="plain@example.com")
    lost = _add()
    _give_key(lost, revoked=True)  # had a key, lost it
    rec = services.invite(lost, actor=first, reason="lost bag")
    assert isinstance(rec, RecoveryRequest)
    assert rec.status == RecoveryRequest.Status.PENDING
    assert not EnrolmentLink.objects.filter(employee=lost).exists()
    # asking again returns the same pending request
    assert services.invite(lost, actor=first).pk == rec.pk
    with pytest.raises(errors.FourEyesRequired):
        services.approve_recovery(rec.pk, approver=first)
    with pytest.raises(services.PermissionDenied):
        services.approve_recovery(rec.pk, approver=plain)
    issued = services.approve_recovery(rec.pk, approver=second)
    link = services.usable_link(issued.token)
    assert link.purpose == EnrolmentLink.Purpose.RECOVERY
    rec.refresh_from_db()
    assert (rec.status, rec.decided_by) == (RecoveryRequest.Status.APPROVED, second)
    with pytest.raises(services.Conflict):
        services.approve_recovery(rec.pk, approver=second)
    actions = set(Event.objects.values_list("action", flat=True))
    assert {Action.RECOVERY_REQUESTED, Action.APPROVAL_NOT_ELIGIBLE, Action.RECOVERY_APPROVED} <= actions


def test_offboarding_revokes_every_session_key_and_link():
    from smishguard.accounts import sessions

    e = _add()
    services.invite(e)
    key = _give_key(e)
    token, _ = sessions.create(e, request=None, credential=key)
    _give_key(e)
    counts = services.offboard(e)
    assert counts == {"sessions_revoked": 1, "keys_revoked": 2, "links_cancelled": 1}
    assert sessions.resolve(token) is None
    assert not Credential.objects.active().filter(employee=e).exists()
    e.refresh_from_db()
    assert e.status == Employee.Status.OFFBOARDED
    with pytest.raises(errors.EmployeeNotActive):
        services.reactivate(e)
    event = Event.objects.get(action=Action.EMPLOYEE_OFFBOARDED)
    assert event.detail["keys_revoked"] == 2


def test_suspend_then_reactivate():
    from smishguard.accounts import sessions

    e = _add()
    token, _ = sessions.create(e, request=None)
    assert services.suspend(e) == 1
    assert sessions.resolve(token) is None
    services.reactivate(e)
    e.refresh_from_db()
    assert e.is_active
    assert sessions.resolve(token) is None  # revoked sessions stay revoked


def test_get_employee_unknown():
    with pytest.raises(NotFound):
        services.get_employee("ghost@example.com")
