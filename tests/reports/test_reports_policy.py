"""The default response policy, the warning sent by the real worker against the fake Twilio (one number refused
with 21211), and the security team's webhook alert delivered through the task queue."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from log_formats import LOG_FORMATS, rendered
from twilio_fixtures import configure, fake, make_employees, work  # noqa: F401 - the shared pytest fixtures

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.detection import services as detection
from smishguard.messaging.models import Broadcast, OutboundMessage
from smishguard.reports import intake, response
from smishguard.reports.errors import AlreadyWarned, WarningNotQueued
from smishguard.reports.models import AlertDelivery, BlocklistEntry, Campaign, CampaignEvent

pytestmark = pytest.mark.django_db

PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"


@pytest.fixture(autouse=True)
def brand(db):
    detection.save_brand(name="Twilio", domains=["twilio.com"])


@pytest.fixture
def policy(settings):
    def apply(**overrides):
        rules = dataclasses.replace(settings.SMISHGUARD.response, **overrides)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, response=rules)
        return rules

    return apply


def by_phone(phone: str, text: str = PHISH):
    return intake.submit(text, channel="sms", reporter=intake.reporter_by_phone(phone))


def kinds(campaign) -> list[str]:
    return list(CampaignEvent.objects.filter(campaign=campaign).values_list("kind", flat=True))


def test_known_employee_and_lookalike_is_blocklisted_at_once(configure, make_employees):
    [sam] = make_employees(1)
    report = by_phone(sam.phone)
    entry = BlocklistEntry.objects.get()
    assert (entry.domain, entry.brand, entry.automatic, entry.campaign_id) == (
        "twilio-sso.com",
        "Twilio",
        True,
        report.campaign_id,
    )
    campaign = Campaign.objects.get()
    assert campaign.blocklisted_at is not None
    assert kinds(campaign) == ["created", "reported", "blocklisted"]
    event = Event.objects.get(action=Action.CAMPAIGN_BLOCKLISTED)
    assert event.detail["domains"] == ["twilio-sso.com"]
    assert event.detail["automatic"] is True
    assert not Broadcast.objects.exists()  # the warning waits


def test_reports_from_unknown_numbers_never_trigger_an_action(configure, make_employees, policy):
    make_employees(3)
    policy(alert_webhook="http://127.0.0.1:9/never")
    for n in range(5):
        by_phone(f"+1202555{n:04d}")
    campaign = Campaign.objects.get()
    assert campaign.report_count == 5
    assert not BlocklistEntry.objects.exists()
    assert not Broadcast.objects.exists()
    assert not AlertDelivery.objects.exists()
    assert campaign.warned_at is None
    assert campaign.blocklisted_at is None
    assert set(kinds(campaign)) == {"created", "reported"}


def test_three_different_employees_within_an_hour_queue_the_warning_once(configure, make_employees, time_machine):
    people = make_employees(5)
    start = timezone.now()
    for minutes, person in zip((0, 20, 50, 55, 58), people, strict=True):
        time_machine.move_to(start + timedelta(minutes=minutes), tick=False)
        by_phone(person.phone)
    campaign = Campaign.objects.get()
    assert campaign.warned_at is not None
    batch = Broadcast.objects.get()
    assert batch.batch_key == f"campaign-{campaign.pk}-warning"
    assert batch.purpose == "warning"
    assert "twilio-sso[.]com" in batch.body
    assert OutboundMessage.objects.count() == 5  # one per active employee with a phone, once
    assert sorted(OutboundMessage.objects.values_list("to", flat=True)) == sorted(p.phone for p in people)
    assert kinds(campaign).count("warned") == 1
    warned = Event.objects.get(action=Action.CAMPAIGN_WARNED)
    assert warned.detail["automatic"] is True
    assert warned.detail["recipients"] == 5


@pytest.mark.parametrize(
    ("minutes", "same_person"),
    [
        ((0, 10), False),  # two employees
        ((0, 40, 80), False),  # three, but over more than an hour
        ((0, 5, 10), True),  # one employee three times
    ],
)
def test_no_warning_below_the_threshold(configure, make_employees, time_machine, minutes, same_person):
    people = make_employees(3)
    start = timezone.now()
    for n, offset in enumerate(minutes):
        time_machine.move_to(start + timedelta(minutes=offset), tick=False)
        by_phone(people[0 if same_person else n].phone)
    assert Campaign.objects.get().report_count == len(minutes)
    assert Campaign.objects.get().warned_at is None
    assert not Broadcast.objects.exists()


def test_unknown_reporters_do_not_count_towards_the_three(configure, make_employees):
    people = make_employees(2)
    by_phone(people[0].phone)
    by_phone("+12025550100")
    by_phone(people[1].phone)
    assert not Broadcast.objects.exists()


def test_the_policy_is_configurable(configure, make_employees, policy):
    policy(auto_blocklist=False, warn_threshold=2)
    people = make_employees(2)
    by_phone(people[0].phone)
    assert not BlocklistEntry.objects.exists()
    by_phone(people[1].phone)
    assert Broadcast.objects.count() == 1


def test_no_automatic_warning_for_a_benign_campaign(configure, make_employees):
    people = make_employees(3)
    for person in people:
        by_phone(person.phone, "Hi, the team lunch is moved to Friday at 1pm in the usual place downstairs")
    assert not Campaign.objects.exists()  # harmless texts are kept for review, in no campaign (issue 11 item 5)
    assert not Broadcast.objects.exists()


def test_an_analyst_warns_once_and_twice_is_a_conflict(configure, make_employees):
    [sam, *_] = make_employees(3)
    campaign = by_phone(sam.phone).campaign
    response.warn(campaign, actor=sam)
    with pytest.raises(AlreadyWarned):
        response.warn(Campaign.objects.get(pk=campaign.pk), actor=sam)
    assert OutboundMessage.objects.count() == 3
    assert kinds(campaign).count("warned") == 1


def test_a_warning_that_cannot_be_queued_is_refused_and_not_marked(make_employees, settings):
    # (without Twilio it is queued, waiting for an account: tests/reports/test_reports_warn_without_twilio.py)
    [sam] = make_employees(1)
    campaign = by_phone(sam.phone).campaign
    Broadcast.objects.create(batch_key=f"campaign-{campaign.pk}-warning", purpose="warning", body="another text")
    with pytest.raises(WarningNotQueued):
        response.warn(campaign, actor=sam)
    assert Campaign.objects.get(pk=campaign.pk).warned_at is None
    assert "warn_failed" in kinds(campaign)
    assert not OutboundMessage.objects.exists()


def test_the_warning_is_sent_by_the_worker_and_an_invalid_number_does_not_stop_the_rest(
    configure, make_employees, fake, work
):
    people = make_employees(4)
    bad = people[2]
    bad.phone = "+15005550001"  # E.164, but Twilio refuses it as invalid (21211)
    bad.save()
    for person in people[:3]:
        by_phone(person.phone)
    assert Broadcast.objects.count() == 1
    work()
    for person in people:
        if person is bad:
            assert fake.sent_to(person.phone) == []
        else:
            assert len(fake.sent_to(person.phone)) == 1, person.phone
    failed = OutboundMessage.objects.get(employee=bad)
    assert (failed.status, failed.error_code) == ("failed", 21211)
    assert set(OutboundMessage.objects.exclude(employee=bad).values_list("status", flat=True)) <= {"sent", "delivered"}
    work()  # nothing more to send, nothing sent twice
    assert len(fake.messages) == 3


# --- the security team's webhook ---------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with the given statuses in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.received.append((json.loads(self.rfile.read(length)), dict(self.headers)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_alerts_reach_the_security_webhook_through_the_queue(configure, make_employees, policy, work):
    with Receiver() as hook:
        policy(alert_webhook=hook.url)
        [sam] = make_employees(1)
        campaign = by_phone(sam.phone).campaign
        by_phone(sam.phone)  # a second report: no second "campaign" alert
        assert AlertDelivery.objects.count() == 2  # new campaign, blocklisted
        assert hook.received == []  # nothing is posted from the request
        work()
    events = sorted(body["event"] for body, _ in hook.received)
    assert events == ["blocklisted", "campaign"]
    for body, headers in hook.received:
        assert body["text"].startswith(":rotating_light: smishguard: ")
        assert body["campaign"]["id"] == campaign.pk
        assert headers["Idempotency-Key"].startswith(f"smishguard-campaign-{campaign.pk}-")
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert kinds(campaign).count("alerted") == 2
    assert Event.objects.filter(action=Action.CAMPAIGN_ALERTED).count() == 2


def test_an_alert_that_keeps_failing_is_given_up_and_recorded(configure, make_employees, policy, work):
    with Receiver(statuses=[503, 503]) as hook:
        policy(alert_webhook=hook.url, alert_attempts=1)
        [sam] = make_employees(1)
        campaign = by_phone(sam.phone).campaign
        work()
    assert len(hook.received) == 2
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert kinds(campaign).count("alert_failed") == 2
    assert Event.objects.filter(action=Action.CAMPAIGN_ALERT_FAILED).count() == 2


def test_a_failed_alert_is_retried_later_with_backoff(configure, make_employees, policy, work):
    from django_tasks_db.models import DBTaskResult

    with Receiver(statuses=[500]) as hook:
        policy(alert_webhook=hook.url)
        make_employees(1)
        by_phone("+12025550199")  # an unknown number: a campaign, and no alert of its own
        campaign = Campaign.objects.get()
        response.alert(campaign, "manual", "test alert")
        work()
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    later = DBTaskResult.objects.filter(status="READY").order_by("-run_after").first()
    assert later is not None
    assert later.run_after > timezone.now() + timedelta(seconds=3)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_a_failed_alert_names_the_hook_only_by_its_host_in_logs_audit_and_timeline(  # noqa: PLR0917 - pytest passes these
    configure, make_employees, policy, work, caplog, log_format
):
    with Receiver(statuses=[400, 400]) as hook:
        secret_url = hook.url + "/T0SECRET/B0SECRET/XyZsEcReT?sig=QqSig"
        policy(alert_webhook=secret_url, alert_attempts=1)
        [sam] = make_employees(1)
        campaign = by_phone(sam.phone).campaign
        with caplog.at_level("INFO"):
            work()
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"failed"}
    audit = json.dumps([[e.action, e.subject_label, e.detail] for e in Event.objects.all()], default=str)
    timeline = json.dumps([[e.summary, e.detail] for e in campaign.events.all()], default=str)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    lines = rendered(caplog.records, log_format)
    assert "campaign-alert" in lines  # the failures were logged
    for text in (audit, timeline, logged, lines):
        for secret in ("T0SECRET", "XyZsEcReT", "QqSig", "/hook"):
            assert secret not in text
