"""What happens to a text that arrives on the reporting number.

THE HOOK: :func:`handle_inbound` hands the text to the reports side (scan the text, record the report, answer
in plain words).  The webhook view
(:mod:`smishguard.messaging.views`) has already checked Twilio's signature, the body limits, replays and
floods when it calls it, once per MessageSid; whatever string it returns is sent back as the reply SMS (an
empty string: no reply).  It must not raise for bad input; an exception is logged and answered with
:data:`FALLBACK_REPLY`.
"""

from __future__ import annotations

ACKNOWLEDGEMENT = "Thanks, we have received your message. The security team will look at it."
FALLBACK_REPLY = "Thanks, we have received your message."
FLOOD_REPLY = (
    "We have received many messages from this number in a short time. "
    "Please wait a few minutes before sending more; nothing you sent is lost."
)
TOO_LONG_REPLY = "That message is too long for us to read. Please send the suspicious text on its own."


def handle_inbound(from_number: str, to_number: str, body: str, message_sid: str) -> str:
    """Handle one inbound text; returns the reply text.

    The text becomes a report (:func:`smishguard.reports.intake.handle_sms`): the sender is matched to an
    employee by phone number (unknown numbers are recorded, not trusted), the text is scanned and put into a
    campaign, and the answer says in plain words whether it is phishing.  Idempotent per ``message_sid``.
    """
    from smishguard.reports.intake import handle_sms

    return handle_sms(from_number, to_number, body, message_sid)
