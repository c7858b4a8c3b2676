"""Property tests over the link extractor (engine.sms.links): any Unicode text gives links without an exception,
each written in the text as found (``raw`` is a substring) and normalised (scheme, lower-case ASCII host), at most
MAX_LINKS of them, and only the first MAX_SCAN_CHARS characters are examined, which bounds the work per input."""

from __future__ import annotations

import pytest
from fuzzing import FUZZ
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smishguard.engine.sms.links import MAX_LINKS, MAX_SCAN_CHARS, extract_links, host_forms, might_contain_link

pytestmark = pytest.mark.once

EXAMPLES = 400  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)
PIECES = [
    "http://",
    "https://",
    "ftp://",
    "hxxps[:]//",
    "hXXp://",
    "example",
    "bank",
    ".com",
    ".co.uk",
    "[.]",
    "(.)",
    "(dot)",
    "[dot]",
    " . ",
    ".",
    "xn--",
    "xn--80ak6aa92e",
    ".xn--p1ai",
    "bit.ly/",
    "192.168.0.1",
    "999.1.1.1",
    "[::1]",
    "[fe80::1]",
    "www.",
    "/path?x=1&y=2#f",
    ":8080",
    ":99999",
    "user:pw@",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45",  # full-width "example"
    "。",
    "\uff0e",  # a full-width full stop
    "пример",
    ".рф",
    "访问",
    "\n",
    "\r\n",
    " ",
    "/",
    "-",
    "_",
    ")",
    "(",
    "\u200b",
    "\u202e",
    "@",
    "e.g.",
    "Mr.Smith",
]
texts = st.text(max_size=300) | st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=40).map("".join)


@given(text=texts)
@example(text="see hxxps[:]//login-okta[.]com/x, then www.bank.co.uk.")
@example(text="\u3002" * 50 + "a.com")
@settings(FUZZ, max_examples=EXAMPLES)
def test_any_text_gives_links_written_in_it_and_normalised(text):
    links = extract_links(text)
    assert len(links) <= MAX_LINKS
    assert len({link.url for link in links}) == len(links)  # without duplicates
    if links:
        assert might_contain_link(text)  # the cheap gate never hides a link
    for link in links:
        assert link.raw
        assert link.raw in text[:MAX_SCAN_CHARS]
        assert link.url.startswith(("http://", "https://", "ftp://"))
        assert link.host.isascii()
        assert link.host == link.host.lower()
        assert link.host in link.url
        if not link.is_ip:
            assert host_forms(link.host_unicode)[0] == link.host


@given(head=texts, tail=texts)
@settings(FUZZ, max_examples=50)
def test_only_the_first_max_scan_chars_are_examined(head, tail):
    filler = "word " * (MAX_SCAN_CHARS // 5)
    text = (head + filler)[:MAX_SCAN_CHARS] + tail + " https://after.example.com/"
    assert extract_links(text) == extract_links(text[:MAX_SCAN_CHARS])
