"""Twilio's webhooks: the inbound SMS (``POST /hooks/twilio/sms``) and delivery statuses (``/hooks/twilio/status``).

Both are CSRF-exempt because Twilio signs them instead: X-Twilio-Signature is checked against
``SMISHGUARD_PUBLIC_URL`` (else the origin) + the request's path and query, with the account's auth token.
A missing or wrong signature gets 403 and a security event.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smishguard.accounts import throttle
from smishguard.audit import Action, record, record_refusal
from smishguard.messaging import inbound, statuses
from smishguard.messaging.models import DeliveryStatus, InboundMessage, OutboundMessage
from smishguard.messaging.ratelimit import inbound_flooding
from smishguard.messaging.sending import apply_status
from smishguard.messaging.twilio import twiml_message, validate_request

log = logging.getLogger("smishguard.messaging")

MAX_WEBHOOK_BYTES = 32 * 1024  # Twilio's webhook requests are a few kilobytes
MAX_INBOUND_CHARS = 1600  # the longest text Twilio delivers
MAX_SID_CHARS = 64


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


def _twiml(text: str | None) -> HttpResponse:
    return HttpResponse(twiml_message(text), content_type="application/xml; charset=utf-8")


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the public base URL (as Twilio sees us, behind any proxy) + path and query."""
    config = settings.SMISHGUARD.twilio
    base = config.public_url or settings.SMISHGUARD.origin
    return base.rstrip("/") + request.get_full_path()


def _refuse(request: HttpRequest, hook: str, reason: str) -> HttpResponse:
    kind = f"{hook}:{reason}"
    record_refusal(
        Action.MESSAGING_WEBHOOK_REFUSED, request=request, kind=kind, hook=hook, reason=reason, path=request.path
    )
    log.warning("twilio %s webhook refused: %s", hook, reason)
    return _plain(403, "forbidden: the request is not signed by Twilio")


def _checked(request: HttpRequest, hook: str) -> HttpResponse | None:
    """None when the request is a well-formed, correctly signed Twilio webhook; else the response to send."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400, "bad Content-Length")
    if length > MAX_WEBHOOK_BYTES:
        return _plain(413, f"the request body is larger than {MAX_WEBHOOK_BYTES} bytes")
    if request.content_type != "application/x-www-form-urlencoded":
        return _plain(415, "expected application/x-www-form-urlencoded")
    try:
        params = request.POST
    except RequestDataTooBig:
        return _plain(413, "the request body is too large")
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE")
    if not settings.SMISHGUARD.twilio.auth_token:
        return _refuse(request, hook, "not_configured")
    if not signature:
        return _refuse(request, hook, "missing_signature")
    if not validate_request(signed_url(request), params, signature):
        return _refuse(request, hook, "bad_signature")
    return None


def _field(request: HttpRequest, name: str, limit: int = MAX_SID_CHARS) -> str | None:
    value = request.POST.get(name, "").strip()
    if not value or len(value) > limit or "\x00" in value:
        return None
    return value


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    refused = _checked(request, "sms")
    if refused is not None:
        return refused
    message_sid = _field(request, "MessageSid") or _field(request, "SmsSid")
    from_number = _field(request, "From", 32)
    to_number = _field(request, "To", 32) or ""
    body = request.POST.get("Body", "")
    if message_sid is None or from_number is None:
        return _plain(400, "MessageSid and From are required")
    refusal = throttle.check(request, "twilio", address=False, account=from_number)  # beyond the flood answer
    if refusal is not None:
        return throttle.refused_response(request, refusal)
    if "\x00" in body:
        return _plain(400, "the Body contains a NUL character")
    if InboundMessage.objects.filter(message_sid=message_sid).exists():
        log.info("inbound %s replayed: ignored", message_sid)
        return _twiml(None)

    config = settings.SMISHGUARD.twilio
    outcome = InboundMessage.Outcome.HANDLED
    if inbound_flooding(from_number, limit=config.inbound_limit, window_seconds=config.inbound_window_seconds):
        outcome = InboundMessage.Outcome.RATE_LIMITED
    elif len(body) > MAX_INBOUND_CHARS:
        outcome = InboundMessage.Outcome.TOO_LONG
    since = timezone.now() - timedelta(seconds=config.inbound_window_seconds)
    first_of_flood = (
        outcome == InboundMessage.Outcome.RATE_LIMITED
        and not InboundMessage.objects.filter(
            from_number=from_number, outcome=InboundMessage.Outcome.RATE_LIMITED, received_at__gte=since
        ).exists()
    )
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(
                message_sid=message_sid,
                from_number=from_number,
                to_number=to_number,
                body=body[: MAX_INBOUND_CHARS * 2],
                outcome=outcome,
            )
    except IntegrityError:  # the same MessageSid arrived twice at once: the other request handles it
        return _twiml(None)

    if outcome == InboundMessage.Outcome.RATE_LIMITED:
        if not first_of_flood:
            return _twiml(None)  # one polite answer per window; then silence, so a flood costs no texts
        record(
            Action.MESSAGING_INBOUND_RATE_LIMITED,
            request=request,
            subject_label=from_number,
            from_number=from_number,
            limit=config.inbound_limit,
            window_seconds=config.inbound_window_seconds,
        )
        reply = inbound.FLOOD_REPLY
    elif outcome == InboundMessage.Outcome.TOO_LONG:
        reply = inbound.TOO_LONG_REPLY
    else:
        reply, finished = inbound.handle(inbound.InboundText(from_number, to_number, body, message_sid))
        if not finished:  # left for the recovery pass (inbound.finish_unhandled)
            InboundMessage.objects.filter(pk=row.pk).update(reply=reply)
            return _twiml(reply)
    InboundMessage.objects.filter(pk=row.pk).update(reply=reply or "", handled_at=timezone.now())
    return _twiml(reply)


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    refused = _checked(request, "status")
    if refused is not None:
        return refused
    message_sid = _field(request, "MessageSid") or _field(request, "SmsSid")
    status = _field(request, "MessageStatus", 32) or _field(request, "SmsStatus", 32)
    if message_sid is None or status is None:
        return _plain(400, "MessageSid and MessageStatus are required")
    raw_code = request.POST.get("ErrorCode", "").strip()
    error_code = int(raw_code) if raw_code.isdigit() and len(raw_code) < 9 else None

    message = OutboundMessage.objects.filter(provider_sid=message_sid).first()
    if message is None and request.GET.get("m", "").isdigit():
        # A callback can beat our own mark: find the message by the id in the (signed) callback URL.
        candidate = OutboundMessage.objects.filter(pk=int(request.GET["m"])).first()
        if candidate is not None and candidate.provider_sid in (None, message_sid):
            message = candidate
    try:
        with transaction.atomic():
            DeliveryStatus.objects.create(
                message=message, message_sid=message_sid, status=status.lower(), error_code=error_code
            )
            if message is None:  # not one of ours: a text an app above sends itself (messaging.statuses)
                statuses.notify(message_sid, status.lower(), error_code)
    except IntegrityError:
        return HttpResponse(status=204)  # the same status for the same message again: already recorded
    if message is not None:
        apply_status(message.pk, status.lower(), error_code)
    return HttpResponse(status=204)
