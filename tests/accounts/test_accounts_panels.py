"""The console's employee page (accounts') shows the panels other apps register (accounts.panels): passkeys'
security keys, without accounts importing passkeys."""

from __future__ import annotations

from smishguard.accounts import panels


def test_passkeys_registers_the_keys_panel():
    [keys] = [p for p in panels.employee_panels() if p.name == "keys"]
    assert keys.template == "passkeys/console/_employee_keys.html"
    assert keys.context.__module__ == "smishguard.passkeys.views"


def test_the_keys_panel_shows_on_the_employee_page(admin, employee, login, add_key):
    add_key(employee, name="Carl's blue key")
    html = login(admin).get(f"/console/employees/{employee.pk}").content.decode()
    assert "<h2>Security keys</h2>" in html
    assert "Carl&#x27;s blue key" in html
    assert f'action="/console/employees/{employee.pk}/keys/' in html


def test_a_registered_panel_appears_with_its_context(admin, employee, login, tmp_path, settings):
    (tmp_path / "test_panel.html").write_text('<section class="panel"><h2>{{ panel_title }}</h2></section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    panels.register_employee_panel(
        "test", template="test_panel.html", context=lambda _request, e: {"panel_title": f"About {e.name}"}, order=5
    )
    try:
        assert [p.name for p in panels.employee_panels()][:2] == ["test", "keys"]
        html = login(admin).get(f"/console/employees/{employee.pk}").content.decode()
        assert "<h2>About Carl Support</h2>" in html
        assert html.index("About Carl Support") < html.index("<h2>Security keys</h2>")
    finally:
        panels.unregister_employee_panel("test")
    html = login(admin).get(f"/console/employees/{employee.pk}").content.decode()
    assert "About Carl Support" not in html
