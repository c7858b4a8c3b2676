"""The templates and scripts need nothing a strict Content-Security-Policy refuses.

A page the browser test cannot reach (the 500 page, the CSRF failure page) is covered here: no inline
<script>, no <style> block, no style="" attribute, no on*="" handler, no javascript: URL in any template; in
our JavaScript no eval, no new Function, no string timers, no HTML written from strings, no inline style or
handler set through an attribute.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "smishguard"
TEMPLATES = sorted(p for p in SRC.rglob("templates/**/*.html"))
SCRIPTS = sorted((SRC / "static" / "js").glob("*.js"))

TEMPLATE_RULES = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    'style="" attribute': re.compile(r"\sstyle\s*=", re.I),
    'on*="" handler': re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
SCRIPT_RULES = {
    "eval": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\b|\bFunction\s*\("),
    "string timer": re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*[\"'`]"),
    "HTML from a string": re.compile(r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write"),
    "style or handler attribute": re.compile(r"setAttribute\(\s*[\"'](?:style|on[a-z]+)[\"']"),
    "handler property": re.compile(r"\.on[a-z]+\s*=\s*[\"'`]"),
}


def test_there_are_templates_and_scripts_to_check():
    assert len(TEMPLATES) > 30
    assert {p.name for p in SCRIPTS} >= {"app.js", "webauthn.js"}


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(SRC)) for p in TEMPLATES])
def test_a_template_needs_no_unsafe_inline(path):
    text = path.read_text(encoding="utf-8")
    found = [(what, m.group(0)) for what, rule in TEMPLATE_RULES.items() for m in rule.finditer(text)]
    assert found == []


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_a_script_needs_no_unsafe_eval_or_inline(path):
    text = path.read_text(encoding="utf-8")
    found = [(what, m.group(0)) for what, rule in SCRIPT_RULES.items() for m in rule.finditer(text)]
    assert found == []
