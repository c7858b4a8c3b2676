#!/usr/bin/env python3
"""Render the portal and console pages to docs/screenshots/*.png (desktop width 1280, and phone-*.png at 390).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--keep] [--security-report FILE]

What it does, all on this machine and in a temporary folder:
1. migrates a fresh SQLite database (SMISHGUARD_DATA_DIR in a temp dir) and seeds the demo organisation
   (smishguard.demo.seed_demo) plus more people, keys, sessions, recovery requests and audit events,
   written through accounts.services / audit.record, and the ORM for keys and back-dated times; then
   detection and response (seed_response): brands, API tokens, reported texts through reports.intake.submit
   (clustered into campaigns, blocklisted and warned about by the response policy), an analyst's actions
   through reports.response, and the CT watcher's alerts and log checkpoints (seed_watch: the real
   `smishguard watch ct --replay FILE --once` on certstream messages, and watch.store for the log-list logs);
2. starts `smishguard serve` (gunicorn) on a free port with origin http://localhost:PORT;
3. drives Debian's chromium (/usr/bin/chromium) with Playwright: signed-out pages, a real enrolment and
   sign-in with a CDP virtual authenticator (exercising static/js/webauthn.js end to end), then the portal
   as an employee and the console as an admin (sessions are opened with accounts.sessions.create and their
   token is put in the browser's cookie), and the detection, response and CT watch pages.

With --security-report FILE it also writes, as JSON, what chromium saw on every page it visited: each
document's security headers (Content-Security-Policy, Permissions-Policy, ...), every `securitypolicyviolation`
event (listened for from an init script, so before any of the page's own code runs) and every console message
about a policy.  tests/e2e/test_e2e_security_headers.py runs the script this way, so that the pages checked
are exactly the pages shown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
# The chromium launch and the CDP virtual security key are the browser tests' own (tests/support/browser.py).
sys.path.insert(0, str(ROOT / "tests" / "support"))
from browser import CHROMIUM, add_virtual_key, chromium  # noqa: E402 - after the path insert above

VIEWPORT = {"width": 1280, "height": 800}
# The phone set (issue 11): the portal as an employee meets it on their phone, and two console pages.
PHONE = {"width": 390, "height": 844}
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1",
    CHROME_LINUX,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
]
KEY_MODELS = [
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 Series with NFC"),
    ("c5ef55ff-ad9a-4b9f-b580-adebafe026d0", "YubiKey 5Ci"),
    ("149a2021-8ef6-4133-96b8-81f8d5b7f1f5", "Security Key by Yubico with NFC"),
    ("42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3", "Google Titan Security Key v2"),
]
# Each row: email, name, department, number of usable keys, and a status change to make.
MORE_PEOPLE = [
    ("nora.new@example.com", "Nora Newhire", "Sales", 0, ""),
    ("omar.ortiz@example.com", "Omar Ortiz", "Support", 0, ""),
    ("priya.shah@example.com", "Priya Shah", "Support", 2, ""),
    ("quinn.baker@example.com", "Quinn Baker", "Support", 1, ""),
    ("rosa.diaz@example.com", "Rosa Díaz", "Support", 2, ""),
    ("sven.berg@example.com", "Sven Berg", "Support", 0, ""),
    ("tara.okafor@example.com", "Tara Okafor", "Engineering", 2, ""),
    ("umar.haddad@example.com", "Umar Haddad", "Engineering", 2, ""),
    ("vera.lind@example.com", "Vera Lind", "Engineering", 1, ""),
    ("wes.tan@example.com", "Wes Tan", "Engineering", 2, ""),
    ("xena.park@example.com", "Xena Park", "Finance", 1, ""),
    ("yuki.sato@example.com", "Yuki Sato", "Finance", 2, ""),
    ("zoe.martin@example.com", "Zoe Martin", "Sales", 1, ""),
    ("aaron.cole@example.com", "Aaron Cole", "Sales", 0, ""),
    ("bea.lopez@example.com", "Bea López", "Sales", 2, ""),
    ("cody.reed@example.com", "Cody Reed", "IT", 2, ""),
    ("dora.kim@example.com", "Dora Kim", "IT", 2, ""),
    ("emil.novak@example.com", "Emil Novak", "People", 1, ""),
    ("fern.walsh@example.com", "Fern Walsh", "Legal", 2, ""),
    ("gabe.ruiz@example.com", "Gabe Ruiz", "Legal", 0, ""),
    ("hugo.meyer@example.com", "Hugo Meyer", "Sales", 2, "suspended"),
    ("iris.chen@example.com", "Iris Chen", "Support", 2, "offboarded"),
]
# Demo people from smishguard.demo and how many keys they get here.
DEMO_KEYS = {
    "admin@example.com": 2,
    "sam.second@example.com": 2,
    "ivy.ops@example.com": 2,
    "carl.support@example.com": 2,
    "dana.support@example.com": 1,
    "eli.sales@example.com": 1,
    "fay.finance@example.com": 1,
    "gus.eng@example.com": 0,  # lost both: pending recovery
    "hana.eng@example.com": 0,  # lost her key: pending recovery asked by the demo admin
    "ian.hr@example.com": 2,
}
KEY_NAMES = ["Keyring key", "Backup key (desk drawer)", "USB-C key", "Travel key"]


@dataclass
class Seeded:
    admin_token: str = ""
    employee_token: str = ""
    enrol_token: str = ""
    enrol_email: str = ""
    phone_enrol_token: str = ""
    ids: dict[str, int] = field(default_factory=dict)
    training: dict = field(default_factory=dict)  # seed_training: the drill's links, the learner's session


# Runs in every page before its own scripts: each CSP violation is handed to the script (a Playwright binding).
VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__sgPolicyViolation({
    document: e.documentURI, directive: e.effectiveDirective, violated: e.violatedDirective,
    blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition
  });
}, true);
"""
# Console messages about a policy (chromium's own words: "Refused to ...", "Content Security Policy",
# "Permissions-Policy", "Error with Permissions-Policy header: Unrecognized feature").
POLICY_WORDS = (
    "content security policy",
    "content-security-policy",
    "refused to",
    "permissions-policy",
    "permissions policy",
)
SECURITY_HEADERS = (
    "content-security-policy",
    "content-security-policy-report-only",
    "permissions-policy",
    "strict-transport-security",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
)


@dataclass
class SecurityWatch:
    """What chromium saw of the security headers and policies, on every page of every browser context."""

    base: str
    shots: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    console: list[dict] = field(default_factory=list)

    def attach(self, ctx) -> None:
        ctx.expose_function("__sgPolicyViolation", self._violation)
        ctx.add_init_script(VIOLATION_LISTENER)
        ctx.on("console", self._console)
        ctx.on("response", self._response)

    def _violation(self, violation: dict) -> None:
        self.violations.append(violation)

    def _console(self, message) -> None:
        text = message.text
        if any(word in text.lower() for word in POLICY_WORDS):
            self.console.append({"type": message.type, "text": text, "page": message.page.url if message.page else ""})

    def _response(self, response) -> None:
        if response.request.resource_type != "document" or not response.url.startswith(self.base):
            return
        headers = response.headers  # names in lower case
        self.documents.append(
            {
                "url": response.url.removeprefix(self.base),
                "status": response.status,
                "headers": {name: headers[name] for name in SECURITY_HEADERS if name in headers},
            }
        )

    def shot(self, name: str, url: str) -> None:
        self.shots.append({"name": name, "url": url.removeprefix(self.base) or "/"})

    def write(self, path: Path) -> None:
        report = {
            "base": self.base,
            "shots": self.shots,
            "documents": self.documents,
            "violations": self.violations,
            "console": self.console,
        }
        path.write_text(json.dumps(report, indent=1), encoding="utf-8")


# The gateway's route policy for the console's rules page (docs/gateway.md), over the demo's groups.
GATEWAY_POLICY = """
[gateway]
default_policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/admin"]
policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:customer-data", "group:security-team"]
policy = "step_up"
reauth_max_age = 900

[[gateway.rules]]
domain = "*.wiki.example.com"
policy = "signed_in"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fake_request(user_agent: str, ip: str):
    from django.test import RequestFactory

    return RequestFactory().post("/api/webauthn/login/verify", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


@contextlib.contextmanager
def at(moment: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


def seed(now: datetime) -> Seeded:
    """The demo organisation, with history: keys, sessions, a lookalike-domain attack, recoveries."""
    from smishguard.accounts import services, sessions
    from smishguard.accounts.models import Employee, Session
    from smishguard.audit import Action, record
    from smishguard.demo import seed_demo
    from smishguard.passkeys.models import Credential

    out = Seeded()
    rng_ips = [f"203.0.113.{n}" for n in range(10, 60)] + [f"198.51.100.{n}" for n in range(20, 40)]
    day = timedelta(days=1)
    start = now - 90 * day
    with at(start):
        seed_demo()
    admin = Employee.objects.get(email="admin@example.com")
    sam = Employee.objects.get(email="sam.second@example.com")
    with at(start + 2 * day):
        for email, name, department, _keys, _extra in MORE_PEOPLE:
            services.add_employee(
                email=email,
                name=name,
                department=department,
                phone=f"+1415555{secrets.randbelow(9000) + 1000}",
                groups=[department.lower()],
                actor=admin,
            )

    def give_keys(person: Employee, count: int, *, first_day: datetime) -> list[Credential]:
        made = []
        for i in range(count):
            aaguid, model = KEY_MODELS[(person.pk + i) % len(KEY_MODELS)]
            created = first_day + timedelta(days=3 * i, hours=person.pk % 7)
            key = Credential.objects.create(
                employee=person,
                credential_id=secrets.token_bytes(32),
                public_key=secrets.token_bytes(77),
                sign_count=40 + secrets.randbelow(400),
                aaguid=aaguid,
                model=model,
                attestation_format="packed",
                attestation_verified=True,
                transports=["usb", "nfc"],
                name=KEY_NAMES[i % len(KEY_NAMES)],
                created_at=created,
                last_used_at=now - timedelta(hours=1 + (person.pk * 7 + i * 29) % 70) if i == 0 else created + day,
            )
            with at(created):
                record(
                    Action.KEY_REGISTERED,
                    request=fake_request(USER_AGENTS[person.pk % len(USER_AGENTS)], rng_ips[person.pk % len(rng_ips)]),
                    actor=person,
                    subject=person,
                    key_id=key.pk,
                    key_name=key.name,
                    model=model,
                    aaguid=aaguid,
                    attestation_format="packed",
                    via="enrolment link" if i == 0 else "portal",
                )
            made.append(key)
        return made

    wanted = dict(DEMO_KEYS)
    wanted.update({email: keys for email, _n, _d, keys, _x in MORE_PEOPLE})
    for email, count in wanted.items():
        person = Employee.objects.get(email=email)
        give_keys(person, count, first_day=start + timedelta(days=3 + person.pk % 20))

    # Gus and Hana had keys and lost them: revoked keys, then recovery requests (four eyes).
    for email, requester, reason in [
        ("gus.eng@example.com", sam, "Lost both keys with his bag at the airport; identity checked on a video call"),
        ("hana.eng@example.com", admin, "Only key went through the wash; confirmed in person at the office"),
    ]:
        person = Employee.objects.get(email=email)
        for key in give_keys(person, 1, first_day=start + 10 * day):
            Credential.objects.filter(pk=key.pk).update(revoked_at=now - 2 * day, revoke_reason="lost")
        with at(now - timedelta(hours=3 if requester == sam else 1)):
            services.invite(person, actor=requester, reason=reason)
    # An older recovery, approved by the second admin.
    ivy = Employee.objects.get(email="ivy.ops@example.com")
    Credential.objects.filter(employee=ivy).update(revoked_at=now - 30 * day, revoke_reason="lost")
    with at(now - 30 * day):
        rec = services.invite(ivy, actor=admin, reason="Keys stolen with laptop")
    with at(now - 30 * day + timedelta(minutes=40)):
        services.approve_recovery(rec.pk, approver=sam)
    give_keys(ivy, 2, first_day=now - 29 * day)

    # A key flagged as possibly cloned: its signature counter went backwards.
    eli = Employee.objects.get(email="eli.sales@example.com")
    flagged = Credential.objects.filter(employee=eli).first()
    Credential.objects.filter(pk=flagged.pk).update(
        flagged_at=now - 5 * day, flag_reason="signature counter went backwards"
    )
    with at(now - 5 * day):
        record(
            Action.KEY_FLAGGED,
            request=fake_request(USER_AGENTS[1], "185.220.101.7"),
            actor_label="system",
            subject=eli,
            key_id=flagged.pk,
            key_name=flagged.name,
            reason="signature counter went backwards",
            stored=212,
            seen=87,
        )

    # The Oktapus pattern: assertions relayed from a lookalike page, refused and recorded with the origin.
    carl = Employee.objects.get(email="carl.support@example.com")
    dana = Employee.objects.get(email="dana.support@example.com")
    for i, (victim, origin) in enumerate(
        [(carl, "https://example-okta.com"), (dana, "https://example-sso.com"), (carl, "https://example-okta.com")]
    ):
        with at(now - timedelta(days=2, hours=4, minutes=-7 * i)):
            record(
                Action.SIGNIN_FAILED,
                request=fake_request(USER_AGENTS[1], f"45.95.169.{20 + i}"),
                actor_label="anonymous",
                subject=victim,
                reason="origin_mismatch",
                message="the response was made for another origin",
                origin=origin,
            )

    # Status changes.
    with at(now - 3 * day):
        services.suspend(Employee.objects.get(email="hugo.meyer@example.com"), actor=admin)
    with at(now - 8 * day):
        services.offboard(Employee.objects.get(email="iris.chen@example.com"), actor=sam)

    # Sign-ins over the last days, and live sessions now.
    usable = Credential.objects.filter(revoked_at__isnull=True, flagged_at__isnull=True).values("employee")
    active = list(Employee.objects.filter(status=Employee.Status.ACTIVE, pk__in=usable))
    for n, person in enumerate(active):
        key = Credential.objects.filter(employee=person, revoked_at__isnull=True).first()
        for d in (4, 2, 1):
            when = now - timedelta(days=d, hours=(n * 5) % 9, minutes=(n * 13) % 60)
            with at(when):
                request = fake_request(USER_AGENTS[n % len(USER_AGENTS)], rng_ips[n % len(rng_ips)])
                _token, session = sessions.create(person, request=request, credential=key)
                record(
                    Action.SIGNIN_SUCCEEDED,
                    request=request,
                    actor=person,
                    subject=person,
                    key_id=key.pk,
                    key_name=key.name,
                    model=key.model,
                    user_verified=True,
                    session_id=session.pk,
                )
    # Those past sessions are long over (the idle timeout ended them).
    Session.objects.update(revoked_at=now - day, revoke_reason="idle timeout")
    live_people = [p for p in active if p.pk % 3 != 0 or p.email in {"carl.support@example.com"}]
    for n, person in enumerate(live_people):
        key = Credential.objects.filter(employee=person, revoked_at__isnull=True).first()
        copies = 2 if person.email in {"carl.support@example.com", "admin@example.com", "cody.reed@example.com"} else 1
        for c in range(copies):
            request = fake_request(USER_AGENTS[(n + c * 3) % len(USER_AGENTS)], rng_ips[(n + c) % len(rng_ips)])
            _token, session = sessions.create(person, request=request, credential=key)
            created = now - timedelta(hours=1 + (n * 3 + c * 2) % 10, minutes=(n * 17) % 60)
            Session.objects.filter(pk=session.pk).update(
                created_at=created,
                last_seen_at=now - timedelta(minutes=1 + (n * 7 + c * 11) % 25),
                expires_at=created + timedelta(hours=12),
            )

    # A couple of sign-outs and an admin revoking a stolen session.
    with at(now - timedelta(hours=20)):
        record(Action.SESSION_SIGNED_OUT, actor=dana, subject=dana, reason="signed out", sessions=1)
        record(Action.SESSION_REVOKED, actor=admin, subject=carl, reason="revoked by admin", sessions=1)

    # The browser sessions the screenshots use.
    admin_key = Credential.objects.filter(employee=admin, revoked_at__isnull=True).first()
    out.admin_token, _ = sessions.create(admin, request=fake_request(CHROME_LINUX, "127.0.0.1"), credential=admin_key)
    carl_key = Credential.objects.filter(employee=carl, revoked_at__isnull=True).first()
    out.employee_token, _ = sessions.create(carl, request=fake_request(CHROME_LINUX, "127.0.0.1"), credential=carl_key)
    omar = Employee.objects.get(email="omar.ortiz@example.com")
    issued = services.invite(omar, actor=admin)
    out.enrol_token = issued.token
    out.enrol_email = omar.email
    out.phone_enrol_token = services.invite(Employee.objects.get(email="sven.berg@example.com"), actor=admin).token
    out.ids = {
        e.email: e.pk
        for e in Employee.objects.filter(
            email__in=["carl.support@example.com", "nora.new@example.com", "dana.support@example.com"]
        )
    }
    return out


# --- detection and response: brands, API tokens, reported texts, campaigns, the CT watcher -----------------

# Reports as (hours before now, reporter, channel, sender, text).  A reporter is an employee's e-mail (a
# known, trusted reporter) or a phone number nobody in the directory has (recorded, never acted on alone).
# The first campaign is the Oktapus pattern: "IT" says the password expired and links to a lookalike.
REPORTS = [
    # The day before yesterday: three employees within the hour, so the policy warns everyone by itself.
    (50.0, "carl.support@example.com", "sms", "+1 (628) 555-0142",
     "Example IT: your password has expired, reset it at example-sso.com"),
    (49.9, "+447700900123", "sms", "+1 (628) 555-0142",
     "Example IT: your password has expired, reset it at example-sso.com"),
    (49.85, "dana.support@example.com", "portal", "+1 (628) 555-0187",
     "Example IT: your password has expired, reset it at example-okta.com"),
    (49.7, "eli.sales@example.com", "sms", "+1 (628) 555-0187",
     "Example IT: your password has expired, reset it at example-okta.com"),
    (49.5, "tara.okafor@example.com", "sms", "+1 (628) 555-0110",
     "Hi Tara, Example IT here. We noticed an unusual sign-in to your account. Confirm it was you at "
     "https://example-sso.com/verify within 2 hours or it will be locked."),
    (49.2, "+14085550177", "sms", "+1 (628) 555-0110",
     "Example IT: your password has expired, reset it at examp1e.com"),
    (47.5, "priya.shah@example.com", "portal", "",
     "Example IT: your password has expired, reset it at example-sso.com"),
    (31.0, "+447700900789", "sms", "+1 (628) 555-0163",
     "EXAMPLE: your Okta MFA enrolment ends today. Re-enrol now at examp1e.com/okta to keep your access"),
    (30.0, "zoe.martin@example.com", "sms", "+1 (628) 555-0199",
     "Example IT: your password has expired, reset it at examp1e.com"),
    # This morning: the HR lure, two employees so far (no automatic warning yet).
    (5.0, "fay.finance@example.com", "sms", "+1 (332) 555-0123",
     "Your schedule has changed, see examplehr-portal.com"),
    (4.6, "ian.hr@example.com", "portal", "+1 (332) 555-0123",
     "Example HR: your schedule has changed, see https://examplehr-portal.com/shift"),
    # Not about us: a parcel scam from an unknown number, spam, and a harmless text checked to be sure.
    (20.0, "+447700900456", "sms", "+44 7451 209 338",
     "Your USPS package is on hold, pay the fee at usps-redelivery.top"),
    (26.0, "wes.tan@example.com", "sms", "72345",
     "50% off all pizzas this weekend! Order at dominos.com, reply STOP to opt out"),
    (3.0, "gus.eng@example.com", "portal", "Dana Support",
     "Hi, it's Dana from Support, running 10 minutes late for the standup"),
]  # fmt: skip
# A campaign three weeks ago, contained then closed by the second admin.
OLD_REPORTS = [
    (21 * 24.0, "bea.lopez@example.com", "sms", "+1 (415) 555-0175",
     "Okta: your account is locked, unlock it at okta-example.com within 24h"),
    (21 * 24.0 - 0.4, "cody.reed@example.com", "sms", "+1 (415) 555-0175",
     "Okta: your account is locked, unlock it at okta-example.com within 24h"),
]  # fmt: skip
# Certificates the CT watcher sees, as certstream would send them: (hours before now, log, issuer, names,
# precertificate?).  Official and unrelated names are in the stream too, as they are in the real one.
LOGS = {
    "argon": ("Google 'Argon2025h2' log", "https://ct.googleapis.com/logs/us1/argon2025h2/"),
    "xenon": ("Google 'Xenon2025h2' log", "https://ct.googleapis.com/logs/eu1/xenon2025h2/"),
    "oak": ("Let's Encrypt 'Oak2025h2' log", "https://oak.ct.letsencrypt.org/2025h2/"),
    "nimbus": ("Cloudflare 'Nimbus2025' Log", "https://ct.cloudflare.com/logs/nimbus2025/"),
    "wyvern": ("DigiCert 'Wyvern2025h2' Log", "https://wyvern.ct.digicert.com/2025h2/"),
    "elephant": ("Sectigo 'Elephant2025h2'", "https://elephant2025h2.ct.sectigo.com/"),
}
ISSUERS = {
    "r11": {"C": "US", "O": "Let's Encrypt", "CN": "R11"},
    "e6": {"C": "US", "O": "Let's Encrypt", "CN": "E6"},
    "zerossl": {"C": "AT", "O": "ZeroSSL", "CN": "ZeroSSL ECC Domain Secure Site CA"},
    "sectigo": {
        "C": "GB",
        "ST": "Greater Manchester",
        "L": "Salford",
        "O": "Sectigo Limited",
        "CN": "Sectigo RSA Domain Validation Secure Server CA",
    },
    "gts": {"C": "US", "O": "Google Trust Services", "CN": "WR3"},
}
CERTIFICATES = [
    (6 * 24 + 5, "argon", "r11", ["example-sso.com", "www.example-sso.com"], False),
    (6 * 24 + 4, "argon", "r11", ["shop.bakery-lyon.fr"], False),
    (5 * 24 + 9, "nimbus", "zerossl", ["examp1e.com"], False),
    (5 * 24 + 8, "wyvern", "gts", ["sso.example.com", "www.example.com"], False),  # ours: no alert
    (3 * 24 + 2, "oak", "e6", ["example-okta.com", "www.example-okta.com"], True),
    (3 * 24 + 2, "oak", "e6", ["example-okta.com", "www.example-okta.com"], False),
    (3 * 24 + 1, "xenon", "sectigo", ["okta-example.com", "login.okta-example.com"], False),
    (2 * 24 + 14, "argon", "r11", ["examplehr-portal.com"], False),
    (2 * 24 + 13, "nimbus", "zerossl", ["xn--exmple-cua.com"], False),
    (2 * 24 + 12, "oak", "e6", ["mail.riverside-dental.com"], False),
    (30, "argon", "r11", ["example-sso.com", "www.example-sso.com"], False),  # renewed on a new key
    (9, "xenon", "sectigo", ["example-helpdesk.com", "www.example-helpdesk.com"], False),
    (2, "oak", "e6", ["examplecorp-vpn.com"], True),
    (0.3, "nimbus", "zerossl", ["example-payroll.com"], False),
]
# The logs the watcher follows (the log-list mode): (log, API, entries read, lag, last error).
WATCHED = [
    ("argon", "rfc6962", 1_482_337, 0, ""),
    ("xenon", "rfc6962", 1_127_904, 0, ""),
    ("oak", "rfc6962", 906_115, 212, ""),
    ("wyvern", "static", 655_301, 0, ""),
    ("elephant", "rfc6962", 1_204_770, 3_584, "{url}ct/v1/get-entries still failing after 6 attempts (HTTP 503)"),
]


def _reporter(who: str):
    from smishguard.accounts.models import Employee
    from smishguard.reports import intake

    if who.startswith("+"):
        return intake.reporter_by_phone(who)
    person = Employee.objects.get(email=who)
    return intake.reporter_by_phone(person.phone) if person.phone else intake.reporter_for(person)


def _submit(now: datetime, rows) -> list:
    from smishguard.reports import intake
    from smishguard.reports.models import Report

    made = []
    for n, (hours, who, channel, sender, text) in enumerate(rows):
        with at(now - timedelta(hours=hours)):
            reporter = _reporter(who)
            if channel == "portal" and reporter.employee is not None:
                reporter = intake.reporter_for(reporter.employee)
            made.append(
                intake.submit(
                    text,
                    channel=Report.Channel(channel),
                    reporter=reporter,
                    sender=sender,
                    message_sid=f"SM{secrets.token_hex(16)}" if channel == "sms" else None,
                    request=None,
                )
            )
            assert made[-1].pk, n  # noqa: S101 - a seeding step that silently did nothing would mislead
    return made


def certstream_line(when: datetime, index: int, *, log: str, issuer: str, names: list[str], precert: bool) -> str:
    """One certificate in certstream's message form (certstream-server-go's full ``certificate_update``)."""
    import json

    name, url = LOGS[log]
    not_before = int((when - timedelta(minutes=5)).timestamp())
    return json.dumps(
        {
            "message_type": "certificate_update",
            "data": {
                "update_type": "PrecertLogEntry" if precert else "X509LogEntry",
                "cert_index": index,
                "cert_link": f"{url}ct/v1/get-entries?start={index}&end={index}",
                "seen": when.timestamp(),
                "source": {"name": name, "url": url.removeprefix("https://")},
                "leaf_cert": {
                    "all_domains": names,
                    "subject": {"CN": names[0]},
                    "issuer": ISSUERS[issuer],
                    "not_before": not_before,
                    "not_after": not_before + 90 * 86400,
                    "serial_number": secrets.token_hex(16).upper(),
                },
            },
        }
    )


def seed_watch(now: datetime, tmp: Path) -> dict[str, int]:
    """The CT watcher, two ways, each at the moment its certificate appeared.

    The logs of the log list (the watcher's main mode) move through watch.store exactly as a log-list run
    leaves them: the first checkpoint at the log's tree head, then each batch's hits committed with the new
    checkpoint and tree head (the matching is watch.matching's), alerts written to the JSON-lines sink by its
    JsonlSink.  Cloudflare's log is not in that list: its certificates come from a certstream feed, replayed
    by the real command, ``smishguard watch ct --replay FILE --once``, one message per run.
    """
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from smishguard.cli import main as smishguard
    from smishguard.detection.services import current_matcher
    from smishguard.engine.ct import LogEntry, LogInfo, TreeHead
    from smishguard.watch import store
    from smishguard.watch.matching import find_lookalikes
    from smishguard.watch.models import LookalikeAlert
    from smishguard.watch.sinks import JsonlSink

    sink = tmp / "var" / "ct-alerts.jsonl"
    sinks = (store.SinkTarget("jsonl", str(JsonlSink(sink).target)),)
    start = now - timedelta(days=7)
    position = {log: 400_000_000 + 37_000_000 * n for n, log in enumerate(LOGS)}
    keys: dict[str, str] = {}
    infos: dict[str, LogInfo] = {}

    def head(log: str, size: int, when: datetime) -> TreeHead:
        root = hashlib.sha256(f"{log}:{size}".encode()).digest()
        return TreeHead(size, int(when.timestamp() * 1000), root)

    for log, api, _read, _lag, _error in WATCHED:
        name, url = LOGS[log]
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        infos[log] = LogInfo.from_key(der, url=url, description=name, api=api)
        with at(start):
            state, _ = store.ensure_state(infos[log])
            store.set_position(state.key, position[log], head(log, position[log], start))
        keys[log] = state.key

    for hours, log, issuer, names, precert in sorted(CERTIFICATES, key=lambda c: -c[0]):
        when = now - timedelta(hours=hours)
        read = 20_000 + secrets.randbelow(90_000)
        index = position[log] + read - 1
        if log in keys:
            name, url = LOGS[log]
            entry = LogEntry(
                index=index,
                timestamp=when,
                kind="precert" if precert else "x509",
                names=tuple(names),
                issuer=issuer_dn(ISSUERS[issuer]),
                not_before=when - timedelta(minutes=5),
            )
            with at(when + timedelta(seconds=3)):
                matched = find_lookalikes([entry], current_matcher())
                store.commit(
                    matched.hits,
                    where=store.Where(keys[log], name, url),
                    sinks=sinks,
                    state=keys[log],
                    next_index=index + 1,
                    head=head(log, index + 1, when),
                    entries_read=read,
                )
                JsonlSink(sink).flush()
        else:
            replay = tmp / f"certstream-{log}-{index}.jsonl"
            line = certstream_line(when, index, log=log, issuer=issuer, names=names, precert=precert)
            replay.write_text(line + "\n", encoding="utf-8")
            with at(when + timedelta(seconds=3)):
                code = smishguard(["watch", "ct", "--replay", str(replay), "--once", "--no-live", "--jsonl", str(sink)])
            if code != 0:
                raise SystemExit(f"smishguard watch ct --replay {replay} failed with status {code}")
        position[log] = index + 1

    # Now: every log read up to its last verified tree head less its lag; one log failing.
    for log, _api, read, lag, error in WATCHED:
        name, url = LOGS[log]
        size = position[log] + read + lag
        with at(now - timedelta(seconds=30)):
            store.commit(
                (),
                where=store.Where(keys[log], name, url),
                state=keys[log],
                next_index=size - lag,
                head=head(log, size, now - timedelta(seconds=40)),
                entries_read=read,
            )
        if error:
            with at(now - timedelta(minutes=3)):
                store.record_error(keys[log], error.format(url=url))
    alerts = {a.domain: a.pk for a in LookalikeAlert.objects.all()}
    return {"alert_okta": alerts["example-okta.com"], "alert_sso": alerts["example-sso.com"]}


def issuer_dn(fields: dict[str, str]) -> str:
    """The issuer as the watcher stores it (certstream's subject fields, in the engine's RFC 4514 form)."""
    from smishguard.engine.ct import issuer_from_subject_fields

    return issuer_from_subject_fields(fields)


def seed_response(now: datetime, tmp: Path) -> dict[str, int]:
    """Brands, keywords and API tokens; reported texts put through intake (verdict, campaign, the response
    policy's blocklisting and warning); an analyst's actions; then the CT watcher."""
    from smishguard.accounts import tokens
    from smishguard.accounts.models import Employee
    from smishguard.detection import services as detection
    from smishguard.reports import response
    from smishguard.reports.models import Campaign

    admin = Employee.objects.get(email="admin@example.com")
    sam = Employee.objects.get(email="sam.second@example.com")
    day = timedelta(days=1)
    with at(now - 60 * day):
        detection.save_brand(
            name="Example",
            domains=["example.com", "example.net", "examplecdn.com"],
            tokens=["examplecorp"],
            actor=admin,
        )
        detection.import_config([], ["timesheet", "paystub"], actor=admin)
    with at(now - 45 * day):
        detection.save_brand(name="Workday", domains=["workday.com", "myworkday.com"], actor=sam)

    issued = {}
    for days, name, scopes, who in [
        (80, "Mail gateway (Proofpoint)", ["scan"], admin),
        (64, "DNS resolvers (RPZ feed)", ["blocklists"], admin),
        (40, "SIEM connector (old)", ["reports", "scan"], sam),
        (12, "SOAR playbooks", ["reports", "blocklists"], sam),
    ]:
        with at(now - days * day):
            issued[name] = tokens.issue(name, scopes=scopes, actor=who)
    for name, scope, ago in [
        ("Mail gateway (Proofpoint)", "scan", timedelta(minutes=4)),
        ("DNS resolvers (RPZ feed)", "blocklists", timedelta(minutes=11)),
        ("SIEM connector (old)", "reports", 13 * day),
        ("SOAR playbooks", "reports", timedelta(hours=6)),
    ]:
        with at(now - ago):
            tokens.authenticate(issued[name][1], scope)
    with at(now - 12 * day):
        tokens.revoke(issued["SIEM connector (old)"][0].pk, actor=sam)

    old = _submit(now, OLD_REPORTS)
    old_campaign = old[0].campaign
    with at(now - 20 * day):
        response.set_status(old_campaign, Campaign.Status.CONTAINED, actor=sam)
    with at(now - 14 * day):
        response.set_status(old_campaign, Campaign.Status.CLOSED, actor=sam)

    # The analyst acts between reports: the STIX bundle goes to the ISAC, and examp1e.com (reported by an
    # unknown number only, so not blocked by the policy) is blocked by hand.
    first = _submit(now, [r for r in REPORTS if r[0] > 49.1])
    big = first[0].campaign
    with at(now - timedelta(hours=49, minutes=5)):
        response.stix_exported([Campaign.objects.get(pk=big.pk)], actor=admin)
    with at(now - timedelta(hours=49)):
        response.add_to_blocklist(Campaign.objects.get(pk=big.pk), ["examp1e.com"], actor=admin)
    later = _submit(now, [r for r in REPORTS if r[0] <= 49.1])
    hr = next(r.campaign for r in later if "examplehr-portal.com" in r.domains)
    out = {"campaign": big.pk, "campaign_hr": hr.pk, "report": first[0].pk}
    out.update(seed_watch(now, tmp))
    return out


IMPORT_CSV = """email,name,phone,department,groups
lena.fox@example.com,Lena Fox,+14155550190,Support,support;customer-data
mark.obi@example,Mark Obi,,Sales,sales
nina.ross@example.com,Nina Ross,+44 20 7946 0958,Finance,finance
owen.grant@example.com,,,IT,it
carl.support@example.com,Carl Support,+14155550103,Support,support;customer-data;escalations
pat.lee@example.com,Pat Lee,0207 946 0000,Legal,legal
"""


# The breach scope (the console's Incidents page): two accounts' reads through the gateway over the last day and
# a half — a day of ordinary work, then one account reads customer after customer until containment refuses it.
INCIDENT_USERS = ("eli.sales@example.com", "fay.finance@example.com")


def seed_access(now: datetime) -> None:
    import random

    from smishguard.accounts.models import Employee
    from smishguard.gateway.models import AccessRecord

    rng = random.Random(14)  # noqa: S311 - made-up screenshot data
    who = {e.email: e for e in Employee.objects.filter(email__in=INCIDENT_USERS)}
    rows = []

    def read(person: str, when: datetime, host: str, customer: str, *verdict: str) -> None:
        decision, reason = verdict or ("allow", "signed_in")
        rows.append(
            AccessRecord(
                at=when, employee=who[person], session_id=1, method="GET", host=host, path=f"/customers/{customer}",
                rule=1, decision=decision, reason=reason, customer=customer, ip="10.20.30.40",
            )
        )  # fmt: skip

    for hour in range(8, 34):  # a working day and the next morning: a few customers an hour
        for _ in range(rng.randrange(0, 4)):
            when = now - timedelta(hours=36 - hour, minutes=rng.randrange(60))
            read(INCIDENT_USERS[rng.randrange(2)], when, "customers.example.com", str(rng.randrange(1000, 1100)))
    burst = now - timedelta(hours=3)
    for i in range(21):  # eli reads 21 customers in nine minutes, then the gateway contains the account
        read("eli.sales@example.com", burst + timedelta(seconds=26 * i), "customers.example.com", str(4000 + i))
    for i in range(6):
        read(
            "eli.sales@example.com", burst + timedelta(minutes=10, seconds=5 * i), "customers.example.com",
            str(4100 + i), "deny", "bulk_read_contained",
        )  # fmt: skip
    read("eli.sales@example.com", now - timedelta(hours=20), "billing.example.com", "1042")
    read("fay.finance@example.com", now - timedelta(hours=30), "billing.example.com", "1042")
    read("fay.finance@example.com", now - timedelta(hours=9), "billing.example.com", "1077", "step_up", "step_up")
    AccessRecord.objects.bulk_create(rows)
    from django.db import connection

    from smishguard.gateway import sql

    with connection.cursor() as cursor:  # each admitted read's roll-up, as the check writes it (gateway.sql)
        for row in rows:
            if row.decision == "allow":
                at = connection.ops.adapt_datetimefield_value(row.at)
                cursor.execute(sql.NOTE_READ, [row.employee_id, row.host, row.customer, at, at])


# --- awareness (issue 16): modules, compliance, SMS phishing simulations ------------------------------------------

# The [training] section of the screenshots' smishguard.toml: drills come from a sender of their own (never the
# reporting number, SMISHGUARD_TWILIO_FROM above), and {company} is the demo company's name.
TRAINING_CONFIG = """
[training]
company = "Example"
simulation_sender = "+14155550177"
"""
# A second module, so that an employee's training page shows one module overdue and one current.
KEYS_MODULE = {
    "slug": "security-keys",
    "title": "Your security key: travel, backups and loss",
    "content": """Your security key is what lets you in, and what keeps a stolen password useless.

## Keep two

Register a **backup key** and keep it somewhere other than your keyring (a desk drawer at home). With one key, a
lost bag means a day without access while IT checks who you are.

## Travelling

- Keep your key on you, not in checked luggage.
- A key works without a network and never needs charging.
- Nobody from IT will ever ask you to post a key or read out a code from it.

## Lost or stolen

Tell IT at once (the portal's **My keys** page can remove it too): the key is revoked, and a colleague in IT checks
who you are before you get an enrolment link for a new one.
""",
    "quiz_items": [
        {
            "question": "Why should you register a second key?",
            "choices": [
                "It doubles the security of each sign-in",
                "A lost key does not lock you out",
                "IT requires two for laptops only",
            ],
            "answer": 1,
            "explanation": "A backup key kept elsewhere lets you carry on while the lost one is revoked.",
        },
        {
            "question": "Where does your key belong when you fly?",
            "choices": ["In checked luggage", "With you, in your hand luggage or pocket", "At the office"],
            "answer": 1,
            "explanation": "Keep it on you: a key in a lost suitcase is a key you have to revoke.",
        },
        {
            "question": "Someone from 'IT' asks you to read out the code printed on your key. What do you do?",
            "choices": [
                "Read it out, it is IT",
                "Refuse and report the call: IT never asks for this",
                "Send a photo of the key instead",
            ],
            "answer": 1,
            "explanation": "Nobody at the company needs anything from your key but a touch on a real sign-in page.",
        },
    ],
    "pass_mark": 66,
}
# The drills over the last three months, oldest first: (days ago, name, text or a campaign, window, how many clicked,
# typed on the page, reported).  The latest is made in one click from the Oktapus-style campaign of seed_response.
DRILLS = [
    (85, "Parcel redelivery fee", "Example post room: a parcel for {first_name} is held, pay the redelivery fee at "
     "{link}", "", 9, 4, 4),
    (58, "Payroll: confirm bank details", "{company} Payroll: hi {first_name}, your payslip is on hold until you "
     "confirm your bank details today at {link}", "09:00-17:00", 7, 3, 7),
    (29, "Okta MFA re-enrolment", "{company} IT: your Okta MFA enrolment expires tonight. Re-enrol now at {link}",
     "09:00-17:00", 5, 2, 11),
    (0, "From campaign: password expired", None, "09:00-17:00", 3, 1, 9),
]  # fmt: skip
# Who is not in the simulation programme (new, or asked to be left out), and who keeps clicking.
NOT_IN_PROGRAMME = {"nora.new@example.com", "gabe.ruiz@example.com", "admin@example.com", "sam.second@example.com"}
REPEAT_CLICKERS = ["aaron.cole@example.com", "zoe.martin@example.com", "omar.ortiz@example.com"]
# Never type on a drill's page here: a submit asks for a fresh key touch of every live session of theirs.
NO_SUBMIT = {"carl.support@example.com", "tara.okafor@example.com"}
# Overdue on the smishing module (never passed it): Carl is the employee whose Training page is shown.
SMISHING_OVERDUE = {"carl.support@example.com", "aaron.cole@example.com", "gabe.ruiz@example.com"}
LEARNER = "tara.okafor@example.com"  # failed the smishing quiz yesterday; passes it in the browser


def _take_quiz(version, person, when: datetime, *, right: bool, minutes: int = 9) -> None:
    """A quiz attempt through training.quiz, as the quiz page's form would post it."""
    from smishguard.training import quiz

    data = {"started": quiz.start_token(version, person, now=when - timedelta(minutes=minutes))}
    for i, item in enumerate(version.quiz):
        wrong = (item["answer"] + 1) % len(item["choices"])
        data[f"q{i}"] = str(item["answer"] if right or i % 2 else wrong)
    with at(when):
        quiz.submit(version, person, data)


def seed_training(now: datetime) -> dict:
    """Modules, assignments and attempts; the simulation programme; four drills launched through
    training.simulations, each recipient's events as the sending code, Twilio's status callback, the tracked link
    (training.landing) and a forwarded report would record them; the browser sessions of the training shots."""
    import random

    from django.conf import settings

    from smishguard.accounts import services, sessions
    from smishguard.accounts.models import Employee
    from smishguard.passkeys.models import Credential
    from smishguard.training import compliance, landing, modules, simulations
    from smishguard.training.models import Module, Recipient, Simulation, SimulationEvent

    rng = random.Random(16)  # noqa: S311 - made-up screenshot data
    day = timedelta(days=1)
    admin = Employee.objects.get(email="admin@example.com")
    programme = settings.SMISHGUARD.training.programme_group
    active = list(Employee.objects.filter(status=Employee.Status.ACTIVE).order_by("pk"))

    # The programme: everyone active but the admins, the newest hire and one who asked to be left out.
    with at(now - 88 * day):
        for person in active:
            groups = list(person.groups.values_list("name", flat=True))
            if person.email not in NOT_IN_PROGRAMME and programme not in groups:
                services.update_employee(
                    person, name=person.name, phone=person.phone, department=person.department,
                    groups=[*groups, programme], actor=admin,
                )  # fmt: skip

    # The bundled module (assigned to the demo's people by seed_demo) for the rest, and a second module for all.
    smishing = Module.objects.get(slug="smishing")
    with at(now - 80 * day):
        compliance.assign_to(
            smishing, [p for p in active if not compliance.is_current(p, smishing)],
            due_at=now - 50 * day, assigned_by=admin.email,
        )  # fmt: skip
    with at(now - 70 * day):
        keys = modules.create(actor=admin, **KEYS_MODULE)
    with at(now - 20 * day):
        compliance.assign_to(keys, active, due_at=now + 4 * day, assigned_by=admin.email)
    smishing_v = modules.latest_version(smishing)
    keys_v = modules.latest_version(keys)
    for n, person in enumerate(active):
        if person.email not in SMISHING_OVERDUE | {LEARNER, "nora.new@example.com"}:
            when = now - (78 - n * 2) * day + timedelta(hours=9 + n % 8, minutes=n * 7 % 60)
            if n % 5 == 0:  # a first try that failed
                _take_quiz(smishing_v, person, when - 2 * day, right=False)
            _take_quiz(smishing_v, person, when, right=True)
        if n % 4 != 3 or person.email == "carl.support@example.com":  # a quarter have yet to take it (due soon)
            _take_quiz(keys_v, person, now - (18 - n % 15) * day + timedelta(hours=10), right=True, minutes=4)
    learner = Employee.objects.get(email=LEARNER)
    _take_quiz(smishing_v, learner, now - day + timedelta(hours=2), right=False)

    # The drills.  Sends, receipts, clicks and reports spread over the hours after each launch.
    from smishguard.reports.models import Campaign

    campaign = Campaign.objects.filter(reports__text__contains="example-sso.com").order_by("pk").first()
    out: dict = {}
    for days, name, text, window, clicks, submits, reports in DRILLS:
        running = days == 0  # launched three hours ago, a few texts still waiting
        launched = now - days * day - timedelta(hours=3 if running else 0)
        with at(launched - timedelta(hours=2)):
            sim = simulations.create(
                name=name, group=programme, template=text, campaign_id=None if text else campaign.pk,
                window=window or None, actor=admin,
            )  # fmt: skip
        with at(launched):
            simulations.launch(sim.pk, actor=admin)
        recipients = list(Recipient.objects.select_related("employee", "simulation").filter(simulation=sim, skipped=""))
        rng.shuffle(recipients)
        sent = recipients[: len(recipients) - 4] if running else recipients  # the last ones wait for the window
        for i, recipient in enumerate(sent):
            at_sent = launched + timedelta(seconds=2 + i)
            Recipient.objects.filter(pk=recipient.pk).update(
                queued_at=at_sent - timedelta(seconds=1), delivery_key=f"simulation-{recipient.pk}"
            )
            simulations.add_event(recipient.pk, SimulationEvent.Kind.SENT, via="twilio", at=at_sent)
            if i % 9 != 4:  # a few receipts never came
                simulations.add_event(
                    recipient.pk, SimulationEvent.Kind.DELIVERED, via="twilio-status", at=at_sent + timedelta(seconds=4)
                )
        emails = [r.employee.email for r in sent]
        clickers = [e for e in REPEAT_CLICKERS if e in emails][: clicks - 1]
        clickers += [e for e in emails if e not in clickers and e not in REPEAT_CLICKERS][: clicks - len(clickers)]
        typers = [e for e in clickers if e not in NO_SUBMIT][:submits]
        reporters = [e for e in emails if e not in clickers][:reports]
        by_email = {r.employee.email: r for r in sent}
        for k, email in enumerate(clickers):
            recipient = Recipient.objects.select_related("employee", "simulation").get(pk=by_email[email].pk)
            with at(launched + timedelta(minutes=3 + 11 * k)):
                landing.record_click(recipient)
            if email in typers:
                with at(launched + timedelta(minutes=4 + 11 * k)):
                    landing.record_submit(recipient)
        for k, email in enumerate(reporters):
            recipient = Recipient.objects.get(pk=by_email[email].pk)
            with at(launched + timedelta(minutes=4 + (days % 5) * 2 + 9 * k + k * k)):
                landing.record_report(recipient, via="sms-forward")
        with at(launched + timedelta(hours=1)):
            simulations.finish_if_done(sim.pk)
        out["simulation"] = sim.pk
        if running:  # links sent and not yet opened nor reported, for the drill's pages in the browser
            quiet = [r for r in sent if r.employee.email not in clickers and r.employee.email not in reporters]
            first = next((r for r in quiet if r.employee.email == "carl.support@example.com"), quiet[0])
            out["drill_rid"] = first.rid  # desktop: opened, then the lesson
            # the phone: opened, typed into and "signed in" (a submit), then the lesson
            others = [r for r in quiet if r.pk != first.pk and r.employee.email not in NO_SUBMIT]
            out["phone_drill_rid"] = others[0].rid
    assert Simulation.objects.filter(status=Simulation.Status.RUNNING).count() == 1  # noqa: S101 - seeding check

    # The learner's browser session (she takes the quiz in the browser), with the right answers to give.
    key = Credential.objects.filter(employee=learner, revoked_at__isnull=True).first()
    out["learner_token"], _ = sessions.create(learner, request=fake_request(CHROME_LINUX, "127.0.0.1"), credential=key)
    out["answers"] = [item["answer"] for item in smishing_v.quiz]
    return out


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not answer at {url} within {timeout:.0f}s")
        time.sleep(0.3)


def serve_command(bind: str) -> list[str]:
    script = Path(sys.executable).with_name("smishguard")
    if script.exists():
        return [str(script), "serve", "--bind", bind]
    return [
        sys.executable,
        "-c",
        "import sys; from smishguard.cli import main; sys.exit(main())",
        "serve",
        "--bind",
        bind,
    ]


def shoot(base: str, seeded: Seeded, out: Path, tmp: Path, watch: SecurityWatch | None = None) -> list[str]:
    from playwright.sync_api import expect

    made: list[str] = []

    with chromium() as browser:

        def context(token: str | None = None):
            ctx = browser.new_context(
                viewport=VIEWPORT, device_scale_factor=1, locale="en-GB", timezone_id="UTC", user_agent=CHROME_LINUX
            )
            if token:
                ctx.add_cookies([{"name": "sg_session", "value": token, "url": base}])
            if watch is not None:
                watch.attach(ctx)
            return ctx

        def shot(page, name: str, *, height: int | None = None) -> None:
            """The whole page, or only its top ``height`` pixels for a page as long as the audit trail."""
            page.wait_for_load_state("networkidle")
            if height is not None:
                page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            page.screenshot(path=str(out / f"{name}.png"), full_page=height is None)
            if height is not None:
                page.set_viewport_size(VIEWPORT)
            made.append(name)
            if watch is not None:
                watch.shot(name, page.url)
            print(f"  {name}.png  ({page.url.removeprefix(base) or '/'})")

        # --- signed out: sign-in page, enrolment with a virtual security key, then a real sign-in -------
        ctx = context()
        page = ctx.new_page()
        page.goto(f"{base}/signin")
        shot(page, "signin")
        page.goto(f"{base}/no-such-page")
        shot(page, "not-found")

        add_virtual_key(ctx, page)
        page.goto(f"{base}/enrol/{seeded.enrol_token}")
        shot(page, "enrol")
        page.fill("#key-name", "Blue YubiKey on my keyring")
        page.click("text=Register security key")
        status = page.locator("[data-webauthn-status]")
        expect(status).to_have_attribute("data-state", "ok", timeout=15000)
        shot(page, "enrol-done")
        page.click("text=Continue to sign in")
        page.wait_for_url("**/signin**")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/", timeout=15000)
        shot(page, "portal-first-signin")
        page.goto(f"{base}/enrol/{seeded.enrol_token}")
        shot(page, "enrol-used")
        ctx.close()

        # --- the portal as an employee ---------------------------------------------------------------------
        ctx = context(seeded.employee_token)
        page = ctx.new_page()
        for path, name in [
            ("/", "portal-overview"),
            ("/portal/keys", "portal-keys"),
            ("/portal/sessions", "portal-sessions"),
            ("/learn/", "portal-learn"),  # Training: one module overdue, one current
            ("/learn/smishing/", "portal-learn-module"),
        ]:
            page.goto(base + path)
            shot(page, name)
        page.goto(f"{base}/console/employees")
        shot(page, "console-forbidden")
        page.goto(f"{base}/api/docs")
        shot(page, "api-docs-forbidden")
        ctx.close()

        # --- the console as an admin -----------------------------------------------------------------------
        ctx = context(seeded.admin_token)
        page = ctx.new_page()
        page.goto(f"{base}/console/employees")
        shot(page, "console-employees")
        page.goto(f"{base}/console/employees?department=Support&status=active")
        shot(page, "console-employees-filtered")
        page.goto(f"{base}/console/employees/{seeded.ids['carl.support@example.com']}")
        shot(page, "console-employee")
        page.goto(f"{base}/console/employees/{seeded.ids['nora.new@example.com']}")
        page.click("text=Issue enrolment link")
        page.wait_for_load_state("networkidle")
        shot(page, "console-employee-link")
        page.goto(f"{base}/console/employees/new")
        shot(page, "console-employee-add")
        page.goto(f"{base}/console/employees/import")
        shot(page, "console-import")
        csv_path = tmp / "people.csv"
        csv_path.write_text(IMPORT_CSV, encoding="utf-8")
        page.set_input_files("#csv-file", str(csv_path))
        page.click("button:has-text('Import')")
        page.wait_for_url("**/import/result**")
        shot(page, "console-import-result")
        page.goto(f"{base}/console/employees/{seeded.ids['dana.support@example.com']}/offboard")
        shot(page, "console-offboard")
        page.goto(f"{base}/console/recovery")
        shot(page, "console-recovery")
        page.goto(f"{base}/console/coverage")
        shot(page, "console-coverage")
        page.goto(f"{base}/console/sessions")
        shot(page, "console-sessions")
        page.goto(f"{base}/console/sessions/revoke-all")
        shot(page, "console-revoke-all")
        page.goto(f"{base}/console/audit")
        shot(page, "console-audit", height=1400)
        page.goto(f"{base}/console/audit?action=passkeys%3Asignin%3Afailed")
        shot(page, "console-audit-filtered")
        since = (datetime.now(UTC) - timedelta(hours=36)).strftime("%Y-%m-%dT%H:00")
        page.goto(f"{base}/console/incidents/?users={'+'.join(INCIDENT_USERS)}&since={since}&until=")
        shot(page, "console-incidents", height=1500)

        # --- detection and response -----------------------------------------------------------------------
        page.goto(f"{base}/console/brands?check=globex-okta.com")
        shot(page, "console-brands")
        page.goto(
            f"{base}/console/gateway/rules?user=carl.support%40example.com&method=GET"
            "&url=https%3A%2F%2Fcustomers.example.com%2Fcustomers%2F4711&seconds=1200"
        )
        shot(page, "console-gateway-rules")
        page.goto(f"{base}/console/brands/new")
        shot(page, "console-brand-add")
        page.goto(f"{base}/console/tokens")
        page.fill("#name", "Helpdesk ticketing (Jira)")
        page.check("input[name=scopes][value=reports]")
        page.click("button:has-text('Issue token')")
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-new-token]")).to_be_visible()
        shot(page, "console-tokens")
        page.goto(f"{base}/console/reports")
        shot(page, "console-reports")
        page.goto(f"{base}/console/reports/{seeded.ids['report']}")
        shot(page, "console-report")
        page.goto(f"{base}/console/campaigns")
        shot(page, "console-campaigns")
        page.goto(f"{base}/console/campaigns/{seeded.ids['campaign']}")
        shot(page, "console-campaign")
        page.goto(f"{base}/console/campaigns/{seeded.ids['campaign_hr']}/warn")
        shot(page, "console-campaign-warn")
        page.goto(f"{base}/console/blocklist")
        shot(page, "console-blocklist")

        # --- the CT watcher: the analyst has triaged one alert (through the console's own form) ---------------
        page.goto(f"{base}/console/watch/alerts/{seeded.ids['alert_sso']}")
        page.select_option("#status", "acknowledged")
        page.click("button:has-text('Set status')")
        page.wait_for_load_state("networkidle")
        page.goto(f"{base}/console/watch/")
        shot(page, "console-watch")
        page.goto(f"{base}/console/watch/alerts/{seeded.ids['alert_okta']}")
        shot(page, "console-watch-alert")
        page.goto(f"{base}/console/watch/logs")
        shot(page, "console-watch-logs")

        # --- awareness: modules, compliance, simulations and their results --------------------------------------
        page.goto(f"{base}/console/training/")
        shot(page, "console-training-modules")
        page.goto(f"{base}/console/training/compliance/")
        shot(page, "console-training-compliance", height=1400)
        page.goto(f"{base}/console/simulations/")
        shot(page, "console-training-simulations")
        page.goto(f"{base}/console/simulations/{seeded.training['simulation']}")
        shot(page, "console-training-simulation", height=1600)
        page.goto(f"{base}/console/training/results/")
        shot(page, "console-training-results")

        # --- the API's documentation (Swagger UI, served from django-ninja's own static files) ---------------
        page.goto(f"{base}/api/docs")
        page.wait_for_selector("#swagger-ui .info", timeout=15000)
        shot(page, "api-docs", height=1400)
        ctx.close()

        # --- the employee reports a text in the portal -------------------------------------------------------
        ctx = context(seeded.employee_token)
        page = ctx.new_page()
        page.goto(f"{base}/portal/report")
        page.fill(
            "#f-text",
            "Example IT: your VPN access will be suspended tonight. Verify your account at example-okta.com/vpn",
        )
        page.fill("#f-sender", "+1 (628) 555-0187")
        shot(page, "portal-report")
        page.click("button:has-text('Check and report')")
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-verdict]")).to_be_visible()
        shot(page, "portal-report-result")
        ctx.close()

        # --- an employee who failed the smishing quiz yesterday takes it again and passes -------------------------
        ctx = context(seeded.training["learner_token"])
        page = ctx.new_page()
        page.goto(f"{base}/learn/smishing/quiz")
        for i, answer in enumerate(seeded.training["answers"]):
            page.check(f"input[name=q{i}][value='{answer}']")
        shot(page, "portal-learn-quiz")
        page.click("button:has-text('Submit answers')")
        page.wait_for_url("**/result/**")
        shot(page, "portal-learn-result")
        ctx.close()

        # --- a drill's tracked link, opened in a browser (a click), and the lesson it leads to ---------------------
        ctx = context()
        page = ctx.new_page()
        page.goto(f"{base}/s/{seeded.training['drill_rid']}")
        shot(page, "drill-signin")
        page.click("text=Forgot your password?")
        page.wait_for_url("**/lesson")
        shot(page, "drill-lesson")
        ctx.close()

        made += shoot_phone(browser, base, seeded, out, watch)
    return made


def shoot_phone(browser, base: str, seeded: Seeded, out: Path, watch: SecurityWatch | None) -> list[str]:
    """The portal at 390 px, as on a phone (touch, a mobile browser), and two console pages: ``phone-*.png``."""
    from playwright.sync_api import expect

    made: list[str] = []

    def context(token: str | None = None):
        ctx = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            timezone_id="UTC",
            user_agent=CHROME_ANDROID,
        )
        if token:
            ctx.add_cookies([{"name": "sg_session", "value": token, "url": base}])
        if watch is not None:
            watch.attach(ctx)
        return ctx

    def shot(page, name: str, *, full: bool = True) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / f"{name}.png"), full_page=full)
        made.append(name)
        if watch is not None:
            watch.shot(name, page.url)
        print(f"  {name}.png  ({page.url.removeprefix(base) or '/'}, {PHONE['width']} px)")

    # Signed out: sign-in, then a new employee's enrolment and first sign-in with a virtual key.
    ctx = context()
    page = ctx.new_page()
    page.goto(f"{base}/signin")
    shot(page, "phone-signin", full=False)
    add_virtual_key(ctx, page)
    page.goto(f"{base}/enrol/{seeded.phone_enrol_token}")
    shot(page, "phone-enrol", full=False)
    page.fill("#key-name", "Key on my keyring")
    page.tap("text=Register security key")
    expect(page.locator("[data-webauthn-status]")).to_have_attribute("data-state", "ok", timeout=15000)
    shot(page, "phone-enrol-done", full=False)
    ctx.close()

    # The portal as an employee: the overview with the menu collapsed, then opened; report a text; keys; sessions.
    ctx = context(seeded.employee_token)
    page = ctx.new_page()
    page.goto(f"{base}/")
    shot(page, "phone-portal-overview")
    page.tap(".menu-toggle")
    expect(page.locator("nav[aria-label='Main'] a").first).to_be_visible()
    shot(page, "phone-portal-menu", full=False)
    page.goto(f"{base}/portal/report")
    page.fill("#f-text", "Example Payroll: your payslip is on hold. Confirm your bank details at example-okta.com/pay")
    page.fill("#f-sender", "+1 (628) 555-0142")
    shot(page, "phone-portal-report", full=False)
    page.tap("button:has-text('Check and report')")
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-verdict]")).to_be_visible()
    shot(page, "phone-portal-report-result")
    page.goto(f"{base}/portal/keys")
    shot(page, "phone-portal-keys")
    page.goto(f"{base}/portal/sessions")
    shot(page, "phone-portal-sessions")
    page.goto(f"{base}/learn/")
    shot(page, "phone-portal-learn")
    ctx.close()

    # A drill as it is met: on the phone, typed into and "signed in" (a submit: nothing typed is sent or kept).
    ctx = context()
    page = ctx.new_page()
    page.goto(f"{base}/s/{seeded.training['phone_drill_rid']}")
    page.fill("#drill-user", "someone@example.com")
    page.fill("#drill-password", "not-a-real-password")
    shot(page, "phone-drill-signin", full=False)
    page.tap("button:has-text('Sign in')")
    page.wait_for_url("**/lesson")
    shot(page, "phone-drill-lesson")
    ctx.close()

    # The console stays readable: the employees table scrolls inside its panel; the audit trail's filters.
    ctx = context(seeded.admin_token)
    page = ctx.new_page()
    page.goto(f"{base}/console/employees")
    shot(page, "phone-console-employees", full=False)
    page.goto(f"{base}/console/audit")
    shot(page, "phone-console-audit", full=False)
    ctx.close()
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go (default docs/screenshots)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and print its path")
    parser.add_argument(
        "--security-report",
        type=Path,
        metavar="FILE",
        help="write the security headers and policy violations chromium saw on every page to FILE (JSON)",
    )
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if args.security_report:
        args.security_report = args.security_report.resolve()  # the script works in a temporary folder
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    args.out.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="smishguard-shots-"))
    port = free_port()
    base = f"http://localhost:{port}"
    os.environ.update(
        {
            "SMISHGUARD_DATA_DIR": str(tmp / "var"),
            "SMISHGUARD_ORIGIN": base,
            "SMISHGUARD_RP_ID": "localhost",
            "DJANGO_SETTINGS_MODULE": "smishguard.settings",
            # A sender, so that the warning to all staff is queued (nothing is sent: no worker runs, and the
            # API base is a closed local port).
            "SMISHGUARD_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "SMISHGUARD_TWILIO_AUTH_TOKEN": "screenshots-not-a-real-token",
            "SMISHGUARD_TWILIO_FROM": "+14155550199",
            "SMISHGUARD_TWILIO_API_BASE": "http://127.0.0.1:9",
        }
    )
    os.environ.pop("SMISHGUARD_DATABASE_URL", None)
    (tmp / "smishguard.toml").write_text(GATEWAY_POLICY + TRAINING_CONFIG, encoding="utf-8")
    os.chdir(tmp)  # ./smishguard.toml is the one above, never a stray one

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    print(f"seeding the demo organisation in {tmp}")
    now = datetime.now(UTC)
    seeded = seed(now)
    seeded.ids.update(seed_response(now, tmp))
    seed_access(now)
    seeded.training = seed_training(now)
    connections.close_all()

    server = subprocess.Popen(  # noqa: S603 - our own console script
        serve_command(f"127.0.0.1:{port}"),
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),  # noqa: SIM115 - lives as long as the server
    )
    try:
        wait_for(f"{base}/signin")
        print(f"server on {base}; writing {args.out}")
        watch = SecurityWatch(base) if args.security_report else None
        try:
            made = shoot(base, seeded, args.out, tmp, watch)
        finally:
            if watch is not None:
                watch.write(args.security_report)
                print(f"security report: {len(watch.documents)} pages, {len(watch.violations)} CSP violations")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{len(made)} screenshots written to {args.out}")
    if args.keep:
        print(f"data kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
