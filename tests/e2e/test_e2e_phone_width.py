"""On a 390 px phone screen (issue 11, item 8): the portal works one-handed, the console stays readable.

A real chromium with a phone's viewport (390 x 844, touch, mobile) and a virtual security key: a real enrolment
and sign-in, then each portal page and a few console pages.  On every page: nothing scrolls the page sideways
(wide tables scroll inside their panel), the menu is collapsed so the page's heading is on the first screen,
and the controls someone taps are visible, inside the screen and at least 40 px tall.
"""

from __future__ import annotations

import json

import pytest
from browser import add_virtual_key, chromium
from servers import clean_env, free_port, gunicorn, smishguard

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
MIN_TAP = 40  # px: a thumb's target (Apple asks 44 pt, Material 48 dp; 40 is the floor asked here)
BRANDS = """\
[[brands]]
name = "Twilio"
domains = ["twilio.com"]
"""
PHISH = "IT Service Desk: your Twilio password expires today. Keep it at https://twilio-sso.com/login now"

MEASURE = """() => {
  const main = document.querySelector("main");
  const heading = main.querySelector("h1");
  const links = Array.from(document.querySelectorAll("nav[aria-label='Main'] a"));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    headingBottom: heading ? heading.getBoundingClientRect().bottom + window.scrollY : null,
    headerRight: (document.querySelector("header") || main).getBoundingClientRect().right,
    visibleMenuLinks: links.filter((a) => a.getClientRects().length > 0).length,
    menuLinks: links.length,
    // for the failure message: the outermost elements that stick out on the right
    wide: Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + "." + el.className + " " + Math.round(el.getBoundingClientRect().right)),
  };
}"""


def check(page, where: str, controls: list[str]) -> None:
    page.wait_for_load_state("load")
    m = page.evaluate(MEASURE)
    assert m["scrollWidth"] <= WIDTH, f"{where}: the page is {m['scrollWidth']} px wide: {m['wide']}"
    assert m["bodyScrollWidth"] <= WIDTH, f"{where}: the body is {m['bodyScrollWidth']} px wide"
    assert m["headingBottom"] is not None, f"{where}: no heading"
    assert m["headingBottom"] <= HEIGHT, f"{where}: the heading ends at {m['headingBottom']} px, below the first screen"
    assert m["headerRight"] >= WIDTH - 1, f"{where}: the header stops at {m['headerRight']} px"
    assert m["visibleMenuLinks"] == 0, f"{where}: {m['visibleMenuLinks']} menu links shown before the content"
    for selector in controls:
        control = page.locator(selector).first
        assert control.is_visible(), f"{where}: {selector} is not visible"
        box = control.bounding_box()
        assert box is not None, f"{where}: {selector} has no box"
        assert box["height"] >= MIN_TAP, f"{where}: {selector} is {box['height']:.0f} px tall"
        assert box["x"] >= 0, f"{where}: {selector} starts off the screen"
        assert box["x"] + box["width"] <= WIDTH, f"{where}: {selector} ends at {box['x'] + box['width']:.0f} px"


def open_menu(page, where: str) -> None:
    """The collapsed menu opens with one tap on its toggle; its links are then big enough to tap."""
    toggle = page.locator(".menu-toggle").first
    box = toggle.bounding_box()
    assert box is not None, f"{where}: no menu toggle"
    assert box["height"] >= MIN_TAP, f"{where}: the menu toggle is {box['height']:.0f} px tall"
    toggle.tap()
    links = page.locator("nav[aria-label='Main'] a")
    links.first.wait_for(state="visible", timeout=5000)
    for i in range(links.count()):
        link_box = links.nth(i).bounding_box()
        assert link_box is not None, f"{where}: menu link {i} has no box"
        assert link_box["height"] >= MIN_TAP, f"{where}: menu link {i} is {link_box['height']:.0f} px tall"
        assert link_box["x"] + link_box["width"] <= WIDTH
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_portal_and_console_at_390_px(tmp_path):
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(
        tmp_path / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost", SMISHGUARD_ALLOWED_HOSTS="localhost"
    )
    smishguard(env, "migrate")
    brands = tmp_path / "brands.toml"
    brands.write_text(BRANDS, encoding="utf-8")
    smishguard(env, "brands", "import", str(brands))
    smishguard(env, "employees", "add", "sec@example.com", "--name", "Samantha Security-Officer", "--admin")
    for i in range(12):  # enough rows, with long addresses, for the employees table to be wide
        smishguard(
            env,
            "employees",
            "add",
            f"employee.number-{i}@subsidiary.example.com",
            "--name",
            f"Employee Number {i}",
            "--department",
            "Customer Operations",
        )
    link = json.loads(smishguard(env, "employees", "invite", "sec@example.com", "--json").stdout)["url"]

    with gunicorn(env, workers=2, log_dir=tmp_path, port=port), chromium() as browser:
        context = browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True, device_scale_factor=2
        )
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        add_virtual_key(context, page)

        # Enrolment and sign-in (signed out: the bare layout, no menu).
        page.goto(link)
        check(page, "enrol", ["#key-name", "button:has-text('Register security key')"])
        page.fill("#key-name", "Keyring key")
        page.click("text=Register security key")
        page.wait_for_selector("[data-webauthn-done]:not([hidden])", timeout=15000)
        page.click("text=Continue to sign in")
        page.wait_for_url(f"{origin}/signin*")
        check(page, "sign-in", ["#email", "button:has-text('Sign in with security key')"])
        page.click("button:has-text('Sign in with security key')")
        page.wait_for_url(f"{origin}/console/**", timeout=15000)

        # The portal, as the admin sees it (the longest menu).
        page.goto(f"{origin}/portal/report")
        check(page, "report a text", ["#f-text", "#f-sender", "button:has-text('Check and report')", ".menu-toggle"])
        open_menu(page, "report a text")
        page.goto(f"{origin}/portal/report")
        page.fill("#f-text", PHISH)
        page.click("button:has-text('Check and report')")
        page.wait_for_load_state("load")
        check(page, "report a text: the answer", ["#f-text", "button:has-text('Check and report')"])

        page.goto(f"{origin}/portal/keys")
        check(page, "my keys", ["#new-key-name", "button:has-text('Register a new key')", "button:has-text('Rename')"])
        page.goto(f"{origin}/portal/sessions")
        check(page, "my sessions", ["button:has-text('Sign out')"])
        page.goto(f"{origin}/")
        check(page, "overview", [".menu-toggle"])

        # The console: readable, wide tables scroll inside their panel.
        page.goto(f"{origin}/console/employees")
        check(page, "employees", ["#q", "button:has-text('Apply')", "a:has-text('Add employee')"])
        table_panel = page.evaluate(
            """() => { const p = document.querySelector("table").closest(".panel");
                       return {scroll: p.scrollWidth, client: p.clientWidth}; }"""
        )
        assert table_panel["client"] <= WIDTH
        open_menu(page, "employees")

        page.goto(f"{origin}/console/campaigns")
        page.locator("main table a[href*='/console/campaigns/']").first.click()
        page.wait_for_url(f"{origin}/console/campaigns/*")
        check(page, "campaign", ["a:has-text('Export STIX')", "#status"])

        page.goto(f"{origin}/console/audit")
        check(page, "audit", ["#action", "#person", "#since", "#until", "button:has-text('Apply')"])
        context.close()
