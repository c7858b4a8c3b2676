"""A simulated click in a real chromium leads to the lesson: chromium's visit counts as a click, the sign-in page
moves on to the lesson by itself ([training] lesson_after_seconds), and pressing "Sign in" after typing leads there
too, with nothing of what was typed in the request chromium sent.  At a desktop and a 390 px phone width; the
screenshots are kept in the test's folder."""

from __future__ import annotations

import pytest
from browser import chromium
from landing_fixtures import SECRET, find_secret
from servers import Database, clean_env, django_eval, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e

RID = "e2eDrillLinkForChromium0001"
SETUP = """
from smishguard.accounts import services
from smishguard.accounts.models import Group
from smishguard.training.models import Module, Recipient, Simulation
from django.utils import timezone
person = services.add_employee(email="carl@example.com", name="Carl Support", phone="+14155550103",
                               department="Support", groups=["simulations"])
sim = Simulation.objects.create(name="Drill", template="Acme IT: {first_name}, your password expires today. "
                                "Keep it now at {link}", group=Group.objects.get(name="simulations"),
                                status="running", created_by="t")
assert Module.objects.filter(slug="smishing").exists()  # the bundled module, which a drill assigns
for n, rid in enumerate(%r):
    other = person if n == 0 else services.add_employee(email=f"p{n}@example.com", name=f"P {n}")
    Recipient.objects.create(simulation=sim, employee=other, rid=rid, queued_at=timezone.now(),
                             sent_at=timezone.now())
"""
CONFIG = """
rp_name = "Acme Corp"
[training]
lesson_after_seconds = 2
simulation_sender = "+15005550009"
"""
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def events(env, rid: str) -> list[str]:
    with Database(env) as db:
        rows = db.execute(
            "SELECT e.kind FROM training_simulationevent e JOIN training_recipient r ON r.id = e.recipient_id "
            "WHERE r.rid = ? ORDER BY e.id",
            (rid,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_simulated_click_in_chromium_leads_to_the_lesson(tmp_path) -> None:
    port = free_port()
    origin = f"http://localhost:{port}"
    config = tmp_path / "smishguard.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = clean_env(tmp_path / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    rids = [RID, RID + "b", RID + "c"]
    django_eval(env, SETUP % (rids,))
    posted: list[bytes | None] = []
    with gunicorn(env, workers=2, log_dir=tmp_path, port=port), chromium() as browser:
        for n, (name, options) in enumerate((("desktop", {}), ("phone", PHONE))):
            rid = rids[n]
            context = browser.new_context(**options)
            page = context.new_page()
            page.on("request", lambda r: posted.append(r.post_data_buffer) if r.method == "POST" else None)
            page.goto(f"{origin}/s/{rid}")
            assert page.locator("h1").inner_text() == "Sign in"
            assert "Acme Corp" in page.content()
            assert events(env, rid) == ["clicked"], "chromium's visit is a click"
            page.screenshot(path=str(tmp_path / f"landing-{name}.png"), full_page=True)
            # Left alone, the page moves on to the lesson.
            page.wait_for_url(f"{origin}/s/{rid}/lesson", timeout=30000)
            assert page.locator("h1").inner_text() == "This was a drill"
            assert "+15005550009" in page.content()
            page.screenshot(path=str(tmp_path / f"lesson-{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= (options.get("viewport") or {}).get(
                "width", 1280
            )
            context.close()

        # Typing and pressing "Sign in": the lesson, and chromium sent nothing of what was typed.
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.on("request", lambda r: posted.append(r.post_data_buffer) if r.method == "POST" else None)
        page.goto(f"{origin}/s/{rids[2]}")
        page.fill("#drill-user", "carl@example.com")
        page.fill("#drill-password", SECRET)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"{origin}/s/{rids[2]}/lesson", timeout=30000)
        assert "touch your security key" in page.content()
        page.screenshot(path=str(tmp_path / "lesson-after-submit-phone.png"), full_page=True)
        context.close()
    assert events(env, rids[2]) == ["clicked", "submitted"]
    assert len(posted) == 1
    assert not posted[0], "the fields have no name: the form's POST carries no body"
    assert find_secret({"the POST chromium sent": posted[0] or b""}) == []
    for name in ("landing-desktop", "lesson-desktop", "landing-phone", "lesson-phone", "lesson-after-submit-phone"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
