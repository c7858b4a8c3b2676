"""The landing area's test helpers: a simulation with its recipients made directly (the simulations area makes
them for real), the bundled lesson module's stand-in, real user agents, and the search for a secret in every
form it could take (raw, URL-encoded, JSON-escaped, base64) across the places smishguard writes.

``find_secret(places, secret)`` is what the "nothing typed is stored" tests use; point it at more places (the
CLI's results and links exports, once they exist) by adding them to the ``places`` mapping.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

# A secret with characters that each encoding writes differently: "!", "&", "%", "+", "/", "=" (URL and base64
# specials), "ä" and "ö" (two UTF-8 bytes, \u escapes in JSON), and an emoji (four UTF-8 bytes, a surrogate pair).
SECRET = "Zq7!pässwörd&%+/=😀"
USER_NAME = "carl.drilltarget@example.com"

TEMPLATE = "Hi {first_name}, your {company} password expires today. Keep it now at {link}"

# Real User-Agent strings as each sends them.
BROWSERS = {
    "Safari on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    "Chrome on Android": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile "
        "Safari/537.36"
    ),
    "Samsung Internet": (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
    ),
    "Firefox on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
}
PREVIEW_FETCHERS = {
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "WhatsApp (iOS)": "WhatsApp/2.24.11.73 i",
    "iMessage": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 "
        "Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
    ),
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack image proxy": "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Teams/Skype": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Signal": "WhatsApp",  # Signal's apps fetch previews as "WhatsApp"
    "Googlebot": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitter": "Twitterbot/1.0",
    "Bing": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
}


def new_rid() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, as the simulations area makes them (<= 32)


def make_simulation(*, name: str = "Password expiry drill", template: str = TEMPLATE, brand: str = "", group=None):
    from smishguard.accounts.models import Group
    from smishguard.training.models import Simulation

    group = group or Group.objects.get_or_create(name="simulations")[0]
    return Simulation.objects.create(
        name=name,
        template=template,
        brand=brand,
        group=group,
        status=Simulation.Status.RUNNING,
        created_by="sec@example.com",
    )


def make_recipient(
    simulation=None,
    *,
    email: str = "carl@example.com",
    name: str = "Carl Support",
    phone: str = "+14155550103",
    sent_at: datetime | None = None,
    employee=None,
):
    """An employee (unless given) and their recipient row in ``simulation`` (a new one unless given), sent."""
    from django.utils import timezone

    from smishguard.accounts import services
    from smishguard.training.models import Recipient

    simulation = simulation or make_simulation()
    if employee is None:
        employee = services.add_employee(
            email=email, name=name, phone=phone, department="Support", groups=["simulations"]
        )
    sent = sent_at or timezone.now()
    return Recipient.objects.create(
        simulation=simulation,
        employee=employee,
        rid=new_rid(),
        department=employee.department,
        queued_at=sent,
        sent_at=sent,
        delivery_key=f"sim-{simulation.pk}-{employee.pk}",
    )


def without_the_lesson_module(slug: str = "smishing") -> None:
    """Take the bundled lesson module away (a company that deleted it, or renamed [training] lesson_module)."""
    from smishguard.training.models import Module

    Module.objects.filter(slug=slug).delete()


def make_lesson_module(slug: str = "smishing"):
    """The module a drill assigns: the bundled one (training migration 0002) for its slug, else a small one (one
    version, one question)."""
    from smishguard.training.models import Module, ModuleVersion

    bundled = Module.objects.filter(slug=slug).first()
    if bundled is not None:
        return bundled
    module = Module.objects.create(slug=slug, title="Smishing: texts that phish")
    ModuleVersion.objects.create(
        module=module,
        number=1,
        title=module.title,
        content="# Smishing\n\nForward suspicious texts to the reporting number.",
        quiz=[{"question": "What do you do?", "choices": ["Click", "Report"], "answer": 1, "explanation": "Report."}],
    )
    return module


def secret_forms(secret: str = SECRET) -> dict[str, bytes]:
    """Every way the secret could have been written down: raw (UTF-8 and UTF-16), URL-encoded (form and path
    style, both cases of hex), JSON-escaped (ASCII-only and not, and escaped twice as in a JSON log line of a JSON
    text), a Python bytes repr (a logged ``request.body``), base64 (standard and URL-safe, with and without
    padding) — and the same of a distinctive part of it, so a truncated or re-encoded copy is found too."""
    forms: dict[str, str | bytes] = {}
    ascii_start = secret[: next((i for i, ch in enumerate(secret) if not ch.isascii()), len(secret))]
    if len(ascii_start) >= 5:  # "Zq7!p": whatever else a copy went through, its plain start survives
        forms["its ASCII start raw"] = ascii_start
        forms["its ASCII start URL-encoded"] = quote_plus(ascii_start)
    for label, text in (("secret", secret), ("its start", secret[:9])):
        raw = text.encode()
        forms[f"{label} raw"] = raw
        forms[f"{label} UTF-16"] = text.encode("utf-16-le")
        forms[f"{label} URL-encoded (form)"] = quote_plus(text)
        forms[f"{label} URL-encoded (path)"] = quote(text, safe="")
        forms[f"{label} URL-encoded (lower-case hex)"] = _lower_hex(quote_plus(text))
        forms[f"{label} JSON-escaped"] = json.dumps(text)[1:-1]
        forms[f"{label} JSON (not ASCII)"] = json.dumps(text, ensure_ascii=False)[1:-1]
        forms[f"{label} JSON-escaped twice"] = json.dumps(json.dumps(text))[3:-3]
        forms[f"{label} Python bytes repr"] = repr(raw)[2:-1]
        forms[f"{label} base64"] = base64.b64encode(raw)
        forms[f"{label} base64 unpadded"] = base64.b64encode(raw).rstrip(b"=")
        forms[f"{label} base64url"] = base64.urlsafe_b64encode(raw).rstrip(b"=")
    return {label: value if isinstance(value, bytes) else value.encode() for label, value in forms.items()}


def _lower_hex(encoded: str) -> str:
    out, i = [], 0
    while i < len(encoded):
        if encoded[i] == "%":
            out.append(encoded[i : i + 3].lower())
            i += 3
        else:
            out.append(encoded[i])
            i += 1
    return "".join(out)


def find_secret(places: Mapping[str, bytes | str], secret: str = SECRET) -> list[str]:
    """``"<form> in <place>"`` for every form of the secret found in every place (none: nothing leaked)."""
    found = []
    forms = secret_forms(secret)
    for where, content in places.items():
        data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        for label, form in forms.items():
            if form in data:
                found.append(f"{label} in {where}")
    return found


def files_under(*roots: Path, suffixes: Iterable[str] = ()) -> dict[str, bytes]:
    """Every file under ``roots`` (all of them, or those ending in one of ``suffixes``), by path."""
    out: dict[str, bytes] = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and (not suffixes or path.name.endswith(tuple(suffixes))):
                out[str(path)] = path.read_bytes()
    return out


def form_body(secret: str = SECRET) -> str:
    return urlencode({"username": USER_NAME, "password": secret})


def json_body(secret: str = SECRET) -> str:
    return json.dumps({"username": USER_NAME, "password": secret})
