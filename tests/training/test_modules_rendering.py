"""A module's Markdown is rendered safely: markdown-it-py with raw HTML off, then nh3's allow-list (each layer is
tested on its own too: hostile HTML handed straight to the second one)."""

from __future__ import annotations

import pytest

from smishguard.training.rendering import clean, to_html

HOSTILE_MARKDOWN = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "![pixel](https://tracker.example/p.png)",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg onload=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    '<form action="https://evil.example"><input name=p></form>',
]

HOSTILE_HTML = [
    "<script>alert(1)</script><p>ok</p>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)" onclick="alert(2)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<p style="color:red" class="x" id="y" onmouseover="alert(1)">x</p>',
    '<iframe src="https://evil.example"></iframe><object data="x"></object><embed src="x">',
    '<a href="https://ok.example" rel="opener" target="_blank">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
]

DANGEROUS = ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "vbscript:", "data:", "<img",
             "<iframe", "<svg", "<form", "<input", "<object", "<embed", "style=", "<div", "target=")  # fmt: skip


def _assert_harmless(html: str) -> None:
    lowered = html.lower()
    for needle in DANGEROUS:
        if needle in ("<script", "<img", "<iframe", "<svg", "<form", "<input", "<div"):
            assert needle not in lowered, (needle, html)
        else:
            # An attribute or scheme may survive only as escaped text inside an element, never inside a tag.
            for tag in lowered.split("<")[1:]:
                assert needle not in tag.split(">")[0], (needle, html)


@pytest.mark.parametrize("markdown", HOSTILE_MARKDOWN)
def test_hostile_markdown_renders_harmless(markdown):
    _assert_harmless(str(to_html(markdown)))


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_the_allow_list_alone_cleans_hostile_html(html):
    _assert_harmless(clean(html))


def test_raw_html_is_shown_as_text():
    assert (
        str(to_html("<b>bold</b> <script>x</script>"))
        == "<p>&lt;b&gt;bold&lt;/b&gt; &lt;script&gt;x&lt;/script&gt;</p>\n"
    )


def test_links_keep_safe_schemes_and_get_rel():
    html = str(to_html("[a](https://a.example/x) [b](http://b.example) [c](mailto:sec@example.com) [d](/learn/)"))
    assert '<a href="https://a.example/x" rel="noopener noreferrer">a</a>' in html
    assert '<a href="http://b.example" rel="noopener noreferrer">b</a>' in html
    assert '<a href="mailto:sec@example.com" rel="noopener noreferrer">c</a>' in html
    assert '<a href="/learn/" rel="noopener noreferrer">d</a>' in html
    assert clean('<a href="ftp://f.example/x">f</a>') == '<a rel="noopener noreferrer">f</a>'


def test_markdown_structure_is_kept_and_a_top_heading_is_an_h2():
    html = str(to_html("# Top\n\n## Part\n\n- **one**\n- *two*\n\n1. a\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n`code`"))
    assert "<h2>Top</h2>" in html
    assert "<h2>Part</h2>" in html
    assert "<h1" not in html
    assert "<ul>\n<li><strong>one</strong></li>\n<li><em>two</em></li>\n</ul>" in html
    assert "<ol>\n<li>a</li>\n</ol>" in html
    assert "<td>1</td>" in html
    assert "<code>code</code>" in html
