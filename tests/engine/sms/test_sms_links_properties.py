"""Properties of link extraction, checked with hypothesis over arbitrary and URL-bearing text."""

import string
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smishguard.engine.sms import Link, deobfuscate, extract_links

# text that cannot glue itself onto a link or form an obfuscation next to it
SAFE_FILLER = st.text(alphabet=string.ascii_letters + string.digits + " ,!?'\"", max_size=80)
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
TLD = st.sampled_from(["com", "net", "org", "xyz", "io", "top", "co.uk", "click", "info"])
PATH = st.from_regex(r"(/[A-Za-z0-9_~=&%-]{0,12}){0,3}", fullmatch=True)
SCHEME = st.sampled_from(["", "http://", "https://", "HTTPS://"])
# text dense in the pieces links and their obfuscations are made of, so the properties meet real candidates
PIECES = [
    "http", "https", "://", "hxxp", "www", ".", "[.]", "(dot)", " ", "\n", "com", "net", "xyz", "top", "ex",
    "am-ple", "/", "a1", "\u3002", "\uff0e", " . ", "@", "?", "=", ")", "(", "\u0440\u0444", "xn--", "p1ai",
    "bit.ly", "1", "256", "[", "]", ":", "-", "\uff45", "\u0430", "..", "It", "Me",
]  # fmt: skip
URLISH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), URLISH)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
@example("hxxp://[.]")
@example("a[.]b[.]c(dot)d . e\u3002f\uff0eg")
@example("\x00\ud800.com xn--.com http://[::")
@example("\u00b2.XN--P1AI")  # IDNA maps the superscript two to 2
@example("XN--00A.\u00bc.KW")  # one label in punycode, the next in Unicode
def test_never_raises_and_links_are_well_formed(text: str) -> None:
    links = extract_links(text)
    assert isinstance(links, tuple)
    cleaned = deobfuscate(text).lower()
    for link in links:
        assert isinstance(link, Link)
        assert link.raw
        assert link.raw in text  # as written, a piece of the text
        assert link.host.isascii()
        assert link.host == link.host.lower()
        assert link.url.startswith(("http://", "https://", "ftp://"))
        # the host is in the text once the obfuscations are undone (in either of its two forms)
        # IDNA maps compatibility characters as browsers do (UTS 46: '²' is '2'), so compare NFKC forms too.
        folded = unicodedata.normalize("NFKC", cleaned)
        if link.host in cleaned or link.host_unicode in cleaned or link.host in folded:
            continue
        # A text may mix the forms label by label ('XN--00A.¼.KW': a punycode label, then a Unicode one).
        for ascii_label, unicode_label in zip(link.host.split("."), link.host_unicode.split("."), strict=False):
            assert ascii_label in cleaned or unicode_label in cleaned or ascii_label in folded, (ascii_label, text)


@settings(max_examples=300, deadline=None)
@given(SAFE_FILLER, SCHEME, st.tuples(st.lists(LABEL, min_size=1, max_size=3), TLD, PATH), SAFE_FILLER)
def test_embedded_url_is_found(before: str, scheme: str, url: tuple[list[str], str, str], after: str) -> None:
    labels, tld, path = url
    host = ".".join([*labels, tld])
    text = f"{before} {scheme}{host}{path} {after}"
    found = extract_links(text)
    assert host in [link.host for link in found]
    (link,) = [link for link in found if link.host == host]
    assert link.url == f"{scheme.lower() or 'http://'}{host}{path}"


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_idempotent_on_its_own_output(text: str) -> None:
    urls = [link.url for link in extract_links(text)]
    again = [link.url for link in extract_links(" ".join(urls))]
    assert again == urls


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(LABEL, min_size=1, max_size=2), TLD, PATH), min_size=1, max_size=5))
def test_defanged_urls_are_found(parts: list[tuple[list[str], str, str]]) -> None:
    hosts = [".".join([*labels, tld]) for labels, tld, _ in parts]
    text = " and ".join(
        f"hxxps://{host.replace('.', '[.]')}{path}" for host, (_, _, path) in zip(hosts, parts, strict=True)
    )
    found = extract_links(text)
    assert {link.host for link in found} == set(hosts)
    assert all(link.obfuscated for link in found)
