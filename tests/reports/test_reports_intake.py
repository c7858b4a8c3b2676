"""The three ways a text is reported: forwarded to the reporting number (Twilio's signed webhook), the portal's
form, and POST /api/reports; every report scanned and stored with its verdict, and answered in plain words."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.conf import settings
from twilio_fixtures import PUBLIC_URL, configure, fake  # noqa: F401 - the shared pytest fixtures

from smishguard.accounts import scopes, services, sessions, tokens
from smishguard.accounts.errors import InvalidToken
from smishguard.accounts.models import ApiToken
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.messaging.models import InboundMessage
from smishguard.messaging.twilio import compute_signature
from smishguard.reports import intake
from smishguard.reports.errors import InvalidReport
from smishguard.reports.models import BlocklistEntry, Campaign, Report

pytestmark = pytest.mark.django_db

HOOK = "/hooks/twilio/sms"
PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"
BLOCKED_REPLY = intake.PHISHING_REPLY + intake.PHISHING_BLOCKED.format(domains="twilio-sso.com")
SAFE = "Lunch is moved to 1pm tomorrow, see you in the canteen. Bring the slides for the review"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


@pytest.fixture
def employee(db):
    return services.add_employee(email="sam@example.com", name="Sam Second", phone="+447700900001")


def sms(client, token: str, *, body: str, sender: str = "+447700900001", sid: str = "SM" + "a" * 32, sign=True):
    data = {"MessageSid": sid, "SmsSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = compute_signature(PUBLIC_URL + HOOK, data, auth_token=token)
    return client.post(HOOK, data=urlencode(data), content_type="application/x-www-form-urlencoded", headers=headers)


def reply(response) -> str | None:
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own TwiML
    found = root.findall("Message")
    return found[0].text if found else None


# --- the forwarded SMS -----------------------------------------------------------------------------------------


def test_a_forwarded_phishing_text_becomes_a_report_and_gets_the_plain_answer(client, configure, fake, employee):
    response = sms(client, fake.auth_token, body=PHISH)
    assert reply(response) == BLOCKED_REPLY  # a known employee's report of a lookalike: blocked at once
    report = Report.objects.get()
    assert report.channel == "sms"
    assert report.reporter == employee
    assert report.reporter_known is True
    assert report.message_sid == "SM" + "a" * 32
    assert report.verdict == "smishing"
    assert report.verdict_json["verdict"] == "smishing"
    assert report.verdict_json["domains"][0]["domain"] == "twilio-sso.com"
    assert report.lookalikes == ["twilio-sso.com"]
    assert report.campaign is not None
    assert InboundMessage.objects.get().reply == report.reply
    assert Event.objects.filter(action=Action.REPORT_RECEIVED, subject=employee).count() == 1


def test_a_safe_text_is_answered_with_the_reason(client, configure, fake, employee):
    answer = reply(sms(client, fake.auth_token, body=SAFE))
    assert answer.startswith("This looks safe because ")
    assert "ordinary message" in answer
    assert Report.objects.get().verdict == "benign"


def test_an_unknown_number_is_recorded_but_not_trusted(client, configure, fake, employee):
    answer = reply(sms(client, fake.auth_token, body=PHISH, sender="+12025550199"))
    assert answer == intake.PHISHING_REPLY
    report = Report.objects.get()
    assert report.reporter is None
    assert report.reporter_known is False
    assert report.reporter_label == "+12025550199"


def test_a_suspended_employee_is_matched_but_not_trusted(client, configure, fake, employee):
    services.suspend(employee)
    reply(sms(client, fake.auth_token, body=PHISH))
    report = Report.objects.get()
    assert report.reporter == employee
    assert report.reporter_known is False


def test_a_replayed_webhook_makes_no_second_report_and_no_second_answer(client, configure, fake, employee):
    first = reply(sms(client, fake.auth_token, body=PHISH))
    again = reply(sms(client, fake.auth_token, body=PHISH))
    assert first == BLOCKED_REPLY
    assert again is None
    assert Report.objects.count() == 1
    # and the hook itself is idempotent per MessageSid, should it ever be called twice
    assert intake.handle_sms("+447700900001", "+15005550006", PHISH, "SM" + "a" * 32) == BLOCKED_REPLY
    assert Report.objects.count() == 1


def test_an_unsigned_request_is_refused_and_makes_no_report(client, configure, fake, employee):
    response = sms(client, fake.auth_token, body=PHISH, sign=False)
    assert response.status_code == 403
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", intake.EMPTY_REPLY),
        ("   \n ", intake.EMPTY_REPLY),
    ],
)
@pytest.mark.usefixtures("configure", "employee")
def test_an_empty_forward_gets_a_polite_answer(client, fake, body, expected):
    assert reply(sms(client, fake.auth_token, body=body)) == expected
    assert not Report.objects.exists()
    assert InboundMessage.objects.count() == 1  # nothing lost


def test_a_binary_body_is_refused_with_400(client, configure, fake, employee):
    assert sms(client, fake.auth_token, body="abc\x00def").status_code == 400
    assert not Report.objects.exists()


def test_a_flood_from_one_number_is_rate_limited_and_recorded(client, configure, fake, employee):
    configure(inbound_limit=3)
    answers = [reply(sms(client, fake.auth_token, body=f"{PHISH} {n}", sid=f"SM{n:032x}")) for n in range(6)]
    assert answers[:3] == [BLOCKED_REPLY] * 3
    assert "many messages" in (answers[3] or "")
    assert answers[4:] == [None, None]
    assert Report.objects.count() == 3  # reports made of the texts handled
    assert InboundMessage.objects.count() == 6  # every text recorded


# --- the portal's form ------------------------------------------------------------------------------------------


def sign_in(client, employee):
    token, _ = sessions.create(employee, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token


def test_the_portal_form_needs_a_signed_in_employee(client):
    assert client.get("/portal/report").status_code == 302


def test_the_portal_form_reports_a_text(client, employee):
    sign_in(client, employee)
    page = client.get("/portal/report")
    assert page.status_code == 200
    assert 'name="text"' in page.content.decode()
    assert 'href="/portal/report"' in page.content.decode()  # the portal's navigation links to it
    response = client.post("/portal/report", {"text": PHISH, "sender": "+44 7911 123456"})
    assert response.status_code == 200
    assert intake.PHISHING_REPLY in html.unescape(response.content.decode())
    report = Report.objects.get()
    assert (report.channel, report.reporter, report.reporter_known) == ("portal", employee, True)
    assert report.sender == "+44 7911 123456"
    assert report.verdict == "smishing"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "sender": "x"}, "The text is empty"),
        ({"text": "a" * 5001, "sender": ""}, "longer than 5000"),
        ({"text": "bad\x00byte", "sender": ""}, "NUL byte"),
        ({"text": "hello there", "sender": "s" * 201}, "at most 200"),
    ],
)
def test_the_portal_form_refuses_bad_input_with_a_message(client, employee, data, message):
    sign_in(client, employee)
    response = client.post("/portal/report", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


# --- the API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api_token(db):
    """A token that may attribute its reports to employees (scope "reports:attribute", issue 10 item 11)."""
    _, secret = tokens.issue("mail gateway", scopes=["reports", "reports:attribute"])
    return secret


@pytest.fixture
def plain_token(db):
    """A "reports" token without attribution: its reports are the integration's own."""
    _, secret = tokens.issue("chat bot", scopes=["reports"])
    return secret


def post_report(client, secret: str | None, body: object, **extra):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/reports", data=data, content_type="application/json", headers=headers, **extra)


def test_api_report_is_201_with_report_verdict_and_campaign(client, employee, api_token):
    response = post_report(client, api_token, {"text": PHISH, "sender": "+15550001", "reporter_phone": employee.phone})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["verdict"]["verdict"] == "smishing"
    assert body["report"]["reporter_known"] is True
    assert body["report"]["sender"] == "+15550001"
    assert body["campaign_id"] == Campaign.objects.get().pk
    assert Report.objects.get().channel == "api"


def test_api_report_by_email_and_without_a_reporter(client, employee, api_token):
    by_mail = post_report(client, api_token, {"text": SAFE, "reporter_email": "SAM@example.com"}).json()
    assert by_mail["report"]["reporter_known"] is True
    anonymous = post_report(client, api_token, {"text": SAFE}).json()
    assert anonymous["report"]["reporter_known"] is False
    assert anonymous["report"]["reporter"] == "integration:mail gateway"


def test_api_needs_a_token_with_the_reports_scope(client, employee):
    _, scan_only = tokens.issue("scanner", scopes=["scan"])
    assert post_report(client, None, {"text": PHISH}).status_code == 401
    assert post_report(client, scan_only, {"text": PHISH}).status_code == 401
    assert post_report(client, "sg_not-a-token", {"text": PHISH}).status_code == 401
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"sender": "x"}, 400, "invalid_request"),
        ({"text": 42}, 400, "invalid_request"),
        ({"text": ""}, 400, "invalid_report"),
        ({"text": "a" * 5001}, 400, "invalid_report"),
        ({"text": "x\x00y"}, 400, "nul_character"),  # refused by the API's JSON parser, for every body alike
        ("{not json", 400, "malformed_json"),
    ],
)
def test_api_bad_input_is_a_clear_4xx(client, api_token, body, status, code):
    response = post_report(client, api_token, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not Report.objects.exists()


def test_api_oversize_body_is_413(client, api_token):
    response = post_report(client, api_token, {"text": "a" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert not Report.objects.exists()


def test_api_flood_from_one_reporter_is_429_and_recorded(client, settings, employee, api_token):
    import dataclasses

    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, response=dataclasses.replace(settings.SMISHGUARD.response, report_limit=2)
    )
    statuses = [
        post_report(client, api_token, {"text": f"{SAFE} {n}", "reporter_phone": employee.phone}).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 429, 429]
    assert Report.objects.count() == 4  # the refused ones are recorded too
    assert Report.objects.filter(state="rate_limited").count() == 2
    assert Report.objects.filter(state="rate_limited", campaign__isnull=False).count() == 0
    assert Event.objects.filter(action=Action.REPORT_RATE_LIMITED).count() == 1  # once per window


# --- attribution to an employee needs its own scope (issue 10, item 11) -------------------------------------------


@pytest.mark.parametrize("field", ["reporter_phone", "reporter_email"])
def test_a_reports_token_without_attribution_cannot_name_an_employee(client, employee, plain_token, field):
    named = {"reporter_phone": employee.phone, "reporter_email": employee.email}[field]
    response = post_report(client, plain_token, {"text": PHISH, field: named})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "attribution_not_allowed"
    assert "reports:attribute" in error["message"]
    assert not Report.objects.exists()
    assert not BlocklistEntry.objects.exists()
    (refused,) = Event.objects.filter(action=Action.REPORT_ATTRIBUTION_REFUSED)
    assert refused.detail["token"] == "chat bot"
    assert refused.detail["field"] == field


def test_an_integration_report_counts_as_unknown_for_every_threshold(client, employee, plain_token):
    from smishguard.messaging.models import Broadcast

    bodies = [post_report(client, plain_token, {"text": PHISH, "sender": f"+1555000{n}"}) for n in range(4)]
    assert [b.status_code for b in bodies] == [201] * 4
    for body in bodies:
        report = body.json()["report"]
        assert (report["reporter"], report["reporter_known"]) == ("integration:chat bot", False)
    campaign = Campaign.objects.get()
    assert campaign.verdict == "smishing"
    assert not BlocklistEntry.objects.exists()  # a known reporter's lookalike would be blocklisted at once
    assert campaign.warned_at is None  # four reports, but no known employee among them
    assert not Broadcast.objects.exists()


def test_a_token_with_the_attribution_scope_names_the_reporter(client, employee, api_token):
    response = post_report(client, api_token, {"text": PHISH, "reporter_phone": employee.phone})
    assert response.status_code == 201
    assert response.json()["report"]["reporter_known"] is True
    assert Report.objects.get().reporter == employee
    assert BlocklistEntry.objects.filter(domain="twilio-sso.com").exists()


def test_the_attribution_scope_goes_with_reports():
    assert "reports:attribute" in scopes.names()
    with pytest.raises(InvalidToken, match="reports:attribute"):
        tokens.issue("lonely", scopes=["reports:attribute"])
    assert not ApiToken.objects.exists()


def test_the_attribution_scope_in_the_cli_the_console_and_the_openapi_schema(client, capsys):
    from smishguard.cli import main

    code = main(["tokens", "issue", "gateway", "--scope", "reports", "--scope", "reports:attribute", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["scopes"] == ["reports", "reports:attribute"]
    with pytest.raises(SystemExit):
        main(["tokens", "issue", "--help"])
    assert "reports:attribute" in capsys.readouterr().out

    admin = services.add_employee(email="sec@example.com", name="Sec Admin", is_admin=True)
    cookie, _ = sessions.create(admin, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert 'value="reports:attribute"' in client.get("/console/tokens").content.decode()

    schema = client.get("/api/openapi.json").json()
    assert "reports:attribute" in schema["paths"]["/api/reports"]["post"]["description"]


# --- received_at (the demo's week; a text forwarded late) ------------------------------------------------------


def test_a_report_received_earlier_is_dated_so_with_its_timeline_and_never_in_the_future(employee):
    from datetime import timedelta

    from django.utils import timezone

    earlier = timezone.now() - timedelta(days=3)
    report = intake.submit(PHISH, channel="sms", reporter=intake.reporter_for(employee), received_at=earlier)
    assert report.created_at == earlier
    campaign = Campaign.objects.get()
    assert (campaign.first_seen, campaign.last_seen) == (earlier, earlier)
    assert set(campaign.events.values_list("at", flat=True)) == {earlier}  # the policy's blocklisting too
    assert campaign.blocklisted_at == earlier
    assert BlocklistEntry.objects.get().added_at == earlier
    with pytest.raises(InvalidReport):
        intake.submit(
            PHISH,
            channel="sms",
            reporter=intake.reporter_for(employee),
            received_at=timezone.now() + timedelta(hours=1),
        )
