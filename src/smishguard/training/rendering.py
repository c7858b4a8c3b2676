"""A module's Markdown as safe HTML: markdown-it-py (CommonMark, raw HTML off), then nh3 with an allow-list.

Two layers, each enough on its own for the common attacks: markdown-it-py escapes any HTML the author typed and
refuses ``javascript:``, ``vbscript:``, ``file:`` and most ``data:`` links; nh3 (ammonia) then keeps only the
tags and attributes below, only http, https and mailto URLs (and relative ones, which stay on this site), and
sets ``rel="noopener noreferrer"`` on every link.  No images: a picture from another host would tell that host
who read the module, and when.  A top-level heading (``#``) is shown as ``<h2>``, as ``##`` is: the page's title
is its one ``<h1>``.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _no_h1(tokens: list) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"


def clean(html: str) -> str:
    """The second layer on its own: ``html`` with only the allowed tags, attributes and URL schemes left."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def to_html(markdown: str) -> SafeString:
    """``markdown`` as HTML that is safe to put in a page as it is."""
    tokens = _markdown.parse(markdown)
    _no_h1(tokens)
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return mark_safe(clean(html))  # safe: cleaned with the allow-list above
