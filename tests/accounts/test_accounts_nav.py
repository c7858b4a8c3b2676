"""The menu comes from the entries each app registers in its AppConfig.ready() (accounts.nav), and shows what the
hand-written list in base.html showed before issue 12: the same sections, entries, links and order."""

from __future__ import annotations

import re

import pytest

from smishguard.accounts import nav
from smishguard.accounts.models import RecoveryRequest

# What base.html listed by hand before the registry (rendered on the portal overview, issue 12).
MY_ACCOUNT = [
    ("Overview", "/"),
    ("My security keys", "/portal/keys"),
    ("My sessions", "/portal/sessions"),
    ("Training", "/learn/"),  # issue 16
    ("Report a text", "/portal/report"),
]
SECURITY_CONSOLE = [
    ("Employees", "/console/employees"),
    ("Four-eyes requests", "/console/recovery"),
    ("Key coverage", "/console/coverage"),
    ("Live sessions", "/console/sessions"),
    ("Audit trail", "/console/audit"),
]
GATEWAY = [("Access rules", "/console/gateway/rules"), ("Incidents", "/console/incidents/")]

DETECTION = [
    ("Protected brands", "/console/brands"),
    ("Reported texts", "/console/reports"),
    ("Campaigns", "/console/campaigns"),
    ("Blocklist", "/console/blocklist"),
    ("Lookalike alerts", "/console/watch/"),
    ("CT logs", "/console/watch/logs"),
    ("API tokens", "/console/tokens"),
]
AWARENESS = [
    ("Modules", "/console/training/"),
    ("Compliance", "/console/training/compliance/"),
    ("Simulations", "/console/simulations/"),
    ("Results", "/console/training/results/"),
]  # issue 16


def rendered_menu(html: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(heading id, heading, [(label, href)]) for each section of the page's main menu."""
    menu = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert menu is not None
    sections = re.findall(
        r'<p class="nav-heading" id="([^"]+)">([^<]+)</p>\s*<ul aria-labelledby="\1">(.*?)</ul>', menu.group(1), re.S
    )
    return [
        (ident, heading, [(label.strip(), href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)', ul)])
        for ident, heading, ul in sections
    ]


def current_entries(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html.split('<nav aria-label="Main">')[1])


def test_an_admin_sees_every_section_as_before(admin, login):
    html = login(admin).get("/").content.decode()
    assert rendered_menu(html) == [
        ("nav-account", "My account", MY_ACCOUNT),
        ("nav-console", "Security console", SECURITY_CONSOLE),
        ("nav-gateway", "Gateway", GATEWAY),
        ("nav-detection", "Detection", DETECTION),
        ("nav-training", "Awareness", AWARENESS),
    ]
    assert current_entries(html) == ["/"]


def test_an_employee_sees_only_their_account_as_before(employee, login):
    html = login(employee).get("/").content.decode()
    assert rendered_menu(html) == [("nav-account", "My account", MY_ACCOUNT)]
    assert "Security console" not in html
    assert "/console/" not in html


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/portal/keys", "/portal/keys"),
        ("/portal/sessions", "/portal/sessions"),
        ("/console/employees", "/console/employees"),
        ("/console/coverage", "/console/coverage"),
        ("/console/audit", "/console/audit"),
        ("/console/tokens", "/console/tokens"),
        ("/console/watch/", "/console/watch/"),
        ("/console/gateway/rules", "/console/gateway/rules"),
        ("/console/incidents/", "/console/incidents/"),
        ("/console/simulations/", "/console/simulations/"),
        ("/console/training/compliance/", "/console/training/compliance/"),
    ],
)
def test_each_page_marks_its_own_entry(admin, login, path, current):
    html = login(admin).get(path).content.decode()
    assert current_entries(html) == [current]


def test_the_pending_four_eyes_requests_are_counted_beside_their_entry(admin, employee, login):
    RecoveryRequest.objects.create(employee=employee, requested_by=admin, requested_by_label=admin.email)
    html = login(admin).get("/console/employees").content.decode()
    assert (
        '<a href="/console/recovery">Four-eyes requests <span class="count" aria-label="1 pending">1</span></a>' in html
    )


def test_an_apps_registration_makes_its_entry_appear(admin, employee, login):
    nav.register_section("test-section", heading="Test section", order=27, admin_only=True)
    nav.register("test-audit", label="A test entry", url_name="accounts:console-audit", section="test-section", order=1)
    nav.register("test-mine", label="Mine too", url_name="passkeys:portal-keys", section=nav.ACCOUNT, order=35)
    try:
        admin_menu = rendered_menu(login(admin).get("/").content.decode())
        assert [s[1] for s in admin_menu] == [
            "My account",
            "Security console",
            "Gateway",
            "Test section",
            "Detection",
            "Awareness",
        ]
        assert admin_menu[3] == ("nav-test-section", "Test section", [("A test entry", "/console/audit")])
        assert admin_menu[0][2] == [*MY_ACCOUNT[:3], ("Mine too", "/portal/keys"), *MY_ACCOUNT[3:]]
        employee_menu = rendered_menu(login(employee).get("/").content.decode())
        assert [s[1] for s in employee_menu] == ["My account"]  # the new section is for admins only
        assert ("Mine too", "/portal/keys") in employee_menu[0][2]
    finally:
        nav.unregister("test-audit")
        nav.unregister("test-mine")
        nav.unregister_section("test-section")
    assert "Test section" not in login(admin).get("/").content.decode()


def test_a_section_is_added_once_and_an_entry_needs_its_section():
    nav.register_section("detection", heading="Detection", order=30, admin_only=True)  # as reports and watch do
    with pytest.raises(ValueError, match="already registered differently"):
        nav.register_section("detection", heading="Something else", order=30, admin_only=True)
    with pytest.raises(ValueError, match="no menu section"):
        nav.register("orphan", label="Orphan", url_name="web:portal", section="nowhere", order=1)


def test_the_registry_order():
    assert [e.key for e in nav.entries()] == [
        "overview",
        "keys",
        "sessions",
        "learn",
        "report-text",
        "employees",
        "recovery",
        "coverage",
        "console-sessions",
        "audit",
        "gateway-rules",
        "incidents",
        "brands",
        "reports-inbox",
        "campaigns",
        "blocklist",
        "watch-alerts",
        "watch-logs",
        "tokens",
        "training-modules",
        "training-compliance",
        "simulations",
        "awareness-results",
    ]
