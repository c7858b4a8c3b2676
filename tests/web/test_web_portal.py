"""The portal's overview (web's home page)."""

from __future__ import annotations


def test_overview_warns_about_a_single_key(employee, login, add_key):
    add_key(employee)
    text = login(employee).get("/").content.decode()
    assert "You have only one security key" in text
    assert "Hello, Carl Support" in text
