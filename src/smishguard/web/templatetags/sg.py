"""Template filters for the portal and console: times, user agents, action badges."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from smishguard.redaction import redact_url

register = template.Library()


@register.filter
def when(value: datetime | None) -> SafeString | str:
    """An absolute UTC time in a <time> element, e.g. 2025-03-04 09:12 UTC."""
    if value is None:
        return "—"
    value = value.astimezone(UTC)
    return format_html('<time datetime="{}">{} UTC</time>', value.isoformat(), value.strftime("%Y-%m-%d %H:%M"))


@register.filter
def ago(value: datetime | None) -> SafeString | str:
    """A relative time ("4 min ago", "in 3 h"), with the absolute time as a tooltip."""
    if value is None:
        return "never"
    seconds = (timezone.now() - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        text = "just now" if not future else "in under a minute"
    else:
        steps = ((3600, "min", 60), (86400, "h", 3600), (86400 * 60, "d", 86400), (float("inf"), "mo", 86400 * 30))
        unit, amount = next((u, int(seconds // size)) for limit, u, size in steps if seconds < limit)
        text = f"in {amount} {unit}" if future else f"{amount} {unit} ago"
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>', value.isoformat(), value.strftime("%Y-%m-%d %H:%M"), text
    )


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@register.filter
def device(user_agent: str) -> str:
    """A short description of a browser from its user agent: "Chrome on macOS"."""
    if not user_agent:
        return "Unknown device"
    if re.match(r"^(curl|python|httpx|Go-http)", user_agent, re.IGNORECASE):
        return user_agent.split(" ", 1)[0][:40]
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "Browser")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    return f"{browser} on {system}" if system else browser


_TONES = (
    (("failed", "refused", "flagged", "offboarded", "suspended"), "danger"),
    (("revoked", "removed", "signed_out", "exported", "requested"), "warning"),
    (("succeeded", "registered", "approved", "used", "reactivated", "created", "issued"), "success"),
)


@register.filter
def action_tone(action: str) -> str:
    last = (action or "").rsplit(":", 1)[-1]
    for words, tone in _TONES:
        if last in words:
            return tone
    return "neutral"


@register.filter
def status_tone(status: str) -> str:
    return {"active": "success", "suspended": "warning", "offboarded": "neutral"}.get(status, "neutral")


@register.filter
def pct(value: float) -> str:
    return f"{value:.0f}%"


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _short_time(text: str) -> str:
    """An ISO timestamp in a detail field, shortened to minutes in UTC; other text unchanged."""
    if _ISO_TIME.match(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return text
    return text


# Internal identifiers that say nothing to a reader of the trail (they stay in the JSON export).
_DETAIL_HIDDEN = frozenset({"session_ids", "session_id", "key_id", "link_id", "credential_id", "aaguid"})


@register.filter
def detail_summary(detail: dict | None) -> str:
    """The interesting parts of an audit event's detail, as "key: value" pairs separated by " · "."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if key in _DETAIL_HIDDEN or value in ("", None, [], {}):
            continue
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        else:
            shown = _short_time(str(value))
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return " · ".join(parts)


@register.filter
def key_label(credential: object) -> str:
    """A key's name, else its model, else a dash (for sessions opened without a key)."""
    if credential is None:
        return "—"
    return getattr(credential, "name", "") or getattr(credential, "model", "") or "Unnamed key"


@register.filter(name="redact_url")
def redact_url_filter(url: str | None) -> str:
    """A webhook URL as a page may show it: scheme://host/… (a chat hook's path is its secret)."""
    return redact_url(url)
