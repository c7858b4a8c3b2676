"""Link extraction: every obfuscation, IDN both ways, shorteners, IPs, and sentences that are not links."""

import pytest

from smishguard.engine.sms import deobfuscate, extract_links, might_contain_link

# text, expected (host, url) pairs in order
FOUND = [
    ("reset it at twilio-sso.com now", [("twilio-sso.com", "http://twilio-sso.com")]),
    ("Visit https://www.Example.com/path?x=1.", [("www.example.com", "https://www.example.com/path?x=1")]),
    ("HTTPS://WWW.EXAMPLE.COM/ABC", [("www.example.com", "https://www.example.com/ABC")]),
    ("www.google.com", [("www.google.com", "http://www.google.com")]),
    ("ftp://files.example.org/x", [("files.example.org", "ftp://files.example.org/x")]),
    ("login: evil.com:8080/x", [("evil.com", "http://evil.com:8080/x")]),
    # defanged / obfuscated
    ("hxxps://evil[.]com/a", [("evil.com", "https://evil.com/a")]),
    ("hxxp://evil.com/a", [("evil.com", "http://evil.com/a")]),
    ("hXXps[:]//evil.com", [("evil.com", "https://evil.com")]),
    ("h**p://evil.com/x", [("evil.com", "http://evil.com/x")]),
    ("evil(.)com/x", [("evil.com", "http://evil.com/x")]),
    ("evil{.}com/x", [("evil.com", "http://evil.com/x")]),
    ("evil(dot)com/x", [("evil.com", "http://evil.com/x")]),
    ("evil [dot] com", [("evil.com", "http://evil.com")]),
    ("evil [DOT] com", [("evil.com", "http://evil.com")]),
    ("evil [ . ] com", [("evil.com", "http://evil.com")]),
    ("go to evil . com/login", [("evil.com", "http://evil.com/login")]),
    ("go to evil .com/login", [("evil.com", "http://evil.com/login")]),
    ("example\u3002com/x", [("example.com", "http://example.com/x")]),  # ideographic full stop
    ("example\uff0ecom/x", [("example.com", "http://example.com/x")]),  # full-width full stop
    ("example\uff61com/x", [("example.com", "http://example.com/x")]),  # half-width ideographic full stop
    ("\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", [("example.com", "http://example.com")]),
    # trailing punctuation and brackets
    ("see twilio-okta.com.", [("twilio-okta.com", "http://twilio-okta.com")]),
    ("(see example.com/a)", [("example.com", "http://example.com/a")]),
    ("link: t.co/abc)", [("t.co", "http://t.co/abc")]),
    ("'example.com/x', he said", [("example.com", "http://example.com/x")]),
    ("https://en.wikipedia.org/wiki/Foo_(bar)!", [("en.wikipedia.org", "https://en.wikipedia.org/wiki/Foo_(bar)")]),
    ("go: example.com/x?", [("example.com", "http://example.com/x")]),
    ("a.com,b.org", [("a.com", "http://a.com"), ("b.org", "http://b.org")]),
    # line breaks inside a link (as in screenshots of texts)
    ("f2gpy.info/\nRzNKEws Zve", [("f2gpy.info", "http://f2gpy.info/RzNKEws")]),
    ("https://evil.com/a-\r\nb c", [("evil.com", "https://evil.com/a-b")]),
    ("https://evil.com/p?x=\n1 now", [("evil.com", "https://evil.com/p?x=1")]),
    # IDN, both ways
    ("xn--80ak6aa92e.com/login", [("xn--80ak6aa92e.com", "http://xn--80ak6aa92e.com/login")]),
    (
        "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/x",
        [("xn--e1afmkfd.xn--p1ai", "http://xn--e1afmkfd.xn--p1ai/x")],
    ),
    ("b\u00fccher.de", [("xn--bcher-kva.de", "http://xn--bcher-kva.de")]),
    # IPs
    ("http://192.168.1.1/x", [("192.168.1.1", "http://192.168.1.1/x")]),
    ("hxxp://1.2.3.4:99/x", [("1.2.3.4", "http://1.2.3.4:99/x")]),
    ("visit 45.33.2.1/login", [("45.33.2.1", "http://45.33.2.1/login")]),
    ("http://[2001:db8::1]:8080/x", [("2001:db8::1", "http://[2001:db8::1]:8080/x")]),
    # userinfo tricks: the host is what follows the @
    ("http://twilio.com@evil.com/x", [("evil.com", "http://twilio.com@evil.com/x")]),
    # CJK text without spaces around the link
    ("\u8bbf\u95eeexample.com\u67e5\u770b", [("example.com", "http://example.com")]),
    # duplicates are reported once
    ("evil.com/a and evil.com/a", [("evil.com", "http://evil.com/a")]),
    # defanged forms are accepted even with an everyday-word TLD
    ("evil [.] it", [("evil.it", "http://evil.it")]),
]

NOT_LINKS = [
    "e.g. this",
    "i.e. that",
    "3.5 hours",
    "Mr.Smith is here",
    "Thanks.Bye",
    "ok.thanks",
    "U.S. stuff",
    "home.it",
    "I'm at home . it is late",
    "see you at 10.30 tmrw",
    "Call 08712300220. Thanks",
    "mail john@example.com",
    "mary.jo@example.com",
    "abc..com",
    "http://a..b.com",
    "https://evil.com:99999/",
    "version 1.2.300.4",
    "",
    "no dots here at all",
    "http://localhost/x",
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_finds_links(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(link.host, link.url) for link in extract_links(text)] == expected
    assert might_contain_link(text)


@pytest.mark.parametrize("text", NOT_LINKS)
def test_not_links(text: str) -> None:
    assert extract_links(text) == ()


@pytest.mark.parametrize(
    ("text", "raw", "obfuscated"),
    [
        ("go to hxxps://evil[.]com/a now", "hxxps://evil[.]com/a", True),
        ("go to evil [dot] com now", "evil [dot] com", True),
        ("go to evil . com/x now", "evil . com/x", True),
        ("go to example\u3002com now", "example\u3002com", True),
        ("go to https://evil.com/a. now", "https://evil.com/a", False),
        ("f2gpy.info/\nRzNKEws Zve", "f2gpy.info/\nRzNKEws", False),
    ],
)
def test_raw_is_as_written(text: str, raw: str, obfuscated: bool) -> None:
    (link,) = extract_links(text)
    assert link.raw == raw
    assert link.obfuscated is obfuscated


@pytest.mark.parametrize(
    ("text", "host_unicode"),
    [
        ("xn--80ak6aa92e.com", "\u0430\u0440\u0440\u04cf\u0435.com"),  # punycode -> unicode
        ("\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"),
        ("xn--ls8h.la", "\U0001f4a9.la"),
        ("xn--99999.com/x", "xn--99999.com"),  # will not decode: stays ASCII, no exception
        ("example.com", "example.com"),
    ],
)
def test_idn_both_ways(text: str, host_unicode: str) -> None:
    (link,) = extract_links(text)
    assert link.host_unicode == host_unicode
    assert link.host.isascii()


@pytest.mark.parametrize(
    ("text", "shortener"),
    [
        ("bit.ly/abc", True),
        ("https://tinyurl.com/y3x", True),
        ("t.co/x", True),
        ("goo.gl/x", True),
        ("is.gd/x", True),
        ("ow.ly/x", True),
        ("rebrand.ly/x", True),
        ("cutt.ly/x", True),
        ("shorturl.at/x", True),
        ("tiny.cc/x", True),
        ("rb.gy/x", True),
        ("s.id/x", True),
        ("t.ly/x", True),
        ("www.bit.ly/x", True),
        ("bitly.example.com/x", False),
        ("example.com/bit.ly", False),
    ],
)
def test_shorteners(text: str, shortener: bool) -> None:
    (link,) = extract_links(text)
    assert link.is_shortener is shortener


def test_ip_flag() -> None:
    (ip,) = extract_links("http://10.0.0.1/x")
    (name,) = extract_links("http://ten.example.com/x")
    assert ip.is_ip
    assert not name.is_ip


def test_deobfuscate() -> None:
    assert deobfuscate("hxxps://a[.]b(dot)c . d\u3002e") == "https://a.b.c.d.e"


def test_gate_skips_plain_text() -> None:
    assert not might_contain_link("Ok lar... Joking wif u oni... see you at 3.30")


def test_work_is_bounded() -> None:
    text = "evil.com/x " * 200_000
    links = extract_links(text)
    assert len(links) == 1  # one distinct URL, and the 2 MB text is scanned only up to the bound
    many = " ".join(f"host{i}.com" for i in range(500))
    assert len(extract_links(many)) == 50
