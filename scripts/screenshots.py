#!/usr/bin/env python3
"""Render the portal and console pages to docs/screenshots/*.png (desktop width 1280).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--keep]

What it does, all on this machine and in a temporary folder:
1. migrates a fresh SQLite database (SMISHGUARD_DATA_DIR in a temp dir) and seeds the demo organisation
   (smishguard.demo.seed_demo) plus more people, keys, sessions, recovery requests and audit events,
   written through accounts.services / audit.record, and the ORM for keys and back-dated times;
2. starts `smishguard serve` (gunicorn) on a free port with origin http://localhost:PORT;
3. drives Debian's chromium (/usr/bin/chromium) with Playwright: signed-out pages, a real enrolment and
   sign-in with a CDP virtual authenticator (exercising static/js/webauthn.js end to end), then the portal
   as an employee and the console as an admin (sessions are opened with accounts.sessions.create and their
   token is put in the browser's cookie).
"""

from __future__ import annotations

import argparse
import contextlib
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
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
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
    ids: dict[str, int] = field(default_factory=dict)


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
    out.ids = {
        e.email: e.pk
        for e in Employee.objects.filter(
            email__in=["carl.support@example.com", "nora.new@example.com", "dana.support@example.com"]
        )
    }
    return out


IMPORT_CSV = """email,name,phone,department,groups
lena.fox@example.com,Lena Fox,+14155550190,Support,support;customer-data
mark.obi@example,Mark Obi,,Sales,sales
nina.ross@example.com,Nina Ross,+44 20 7946 0958,Finance,finance
owen.grant@example.com,,,IT,it
carl.support@example.com,Carl Support,+14155550103,Support,support;customer-data;escalations
pat.lee@example.com,Pat Lee,0207 946 0000,Legal,legal
"""


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


def shoot(base: str, seeded: Seeded, out: Path, tmp: Path) -> list[str]:
    from playwright.sync_api import expect, sync_playwright

    made: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def context(token: str | None = None):
            ctx = browser.new_context(
                viewport=VIEWPORT, device_scale_factor=1, locale="en-GB", timezone_id="UTC", user_agent=CHROME_LINUX
            )
            if token:
                ctx.add_cookies([{"name": "sg_session", "value": token, "url": base}])
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
            print(f"  {name}.png  ({page.url.removeprefix(base) or '/'})")

        # --- signed out: sign-in page, enrolment with a virtual security key, then a real sign-in -------
        ctx = context()
        page = ctx.new_page()
        page.goto(f"{base}/signin")
        shot(page, "signin")

        cdp = ctx.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "ctap2Version": "ctap2_1",
                    "transport": "usb",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
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
        ]:
            page.goto(base + path)
            shot(page, name)
        page.goto(f"{base}/console/employees")
        shot(page, "console-forbidden")
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
        ctx.close()
        browser.close()
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go (default docs/screenshots)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and print its path")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
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
        }
    )
    os.environ.pop("SMISHGUARD_DATABASE_URL", None)
    os.chdir(tmp)  # no stray ./smishguard.toml is read

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    print(f"seeding the demo organisation in {tmp}")
    seeded = seed(datetime.now(UTC))
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
        made = shoot(base, seeded, args.out, tmp)
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
