"""Issue 14: the URL a proxy asks about is decoded once and normalised before matching; what is ambiguous is
refused with a reason code (smishguard.gateway.normalise).  Pure functions: no database, same in both modes."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smishguard.gateway.errors import RequestRefused
from smishguard.gateway.normalise import normalise, remove_dot_segments, remove_dot_segments_one_by_one

# (method, URL) -> (host, path, port)
NORMALISED = [
    ("GET", "https://customers.example.com/customers/1", ("customers.example.com", "/customers/1", None)),
    ("GET", "https://customers.example.com/a/../customers/1", ("customers.example.com", "/customers/1", None)),
    ("GET", "https://customers.example.com//customers//1", ("customers.example.com", "/customers/1", None)),
    ("GET", "https://customers.example.com/customers/%2e%2e/admin", ("customers.example.com", "/admin", None)),
    ("GET", "https://customers.example.com/customers/%2E%2E/%2e/admin", ("customers.example.com", "/admin", None)),
    ("GET", "https://customers.example.com/admin?x=/customers/1", ("customers.example.com", "/admin", None)),
    ("GET", "https://customers.example.com/admin#/customers/1", ("customers.example.com", "/admin", None)),
    ("GET", "https://customers.example.com/../../../etc", ("customers.example.com", "/etc", None)),
    ("GET", "https://customers.example.com/./a/./b/.", ("customers.example.com", "/a/b/", None)),
    ("GET", "https://customers.example.com/a/b/..", ("customers.example.com", "/a/", None)),
    ("GET", "https://customers.example.com/customers/1/", ("customers.example.com", "/customers/1/", None)),
    ("GET", "https://customers.example.com", ("customers.example.com", "/", None)),
    ("GET", "https://customers.example.com?customers/1", ("customers.example.com", "/", None)),
    ("GET", "https://CUSTOMERS.Example.COM/Customers/1", ("customers.example.com", "/Customers/1", None)),
    ("GET", "https://customers.example.com./x", ("customers.example.com", "/x", None)),
    ("GET", "https://customers.example.com:443/x", ("customers.example.com", "/x", None)),
    ("GET", "http://customers.example.com:80/x", ("customers.example.com", "/x", None)),
    ("GET", "http://customers.example.com:8080/x", ("customers.example.com", "/x", 8080)),
    ("GET", "HTTPS://customers.example.com/x", ("customers.example.com", "/x", None)),
    ("GET", "https://[::1]:8443/x", ("::1", "/x", 8443)),
    ("GET", "https://10.0.0.5/x", ("10.0.0.5", "/x", None)),
    ("GET", "https://customers.example.com/caf%C3%A9/%20x", ("customers.example.com", "/café/ x", None)),
    ("GET", "https://customers.example.com/café", ("customers.example.com", "/café", None)),
    ("POST", "https://customers.example.com/a%3Bb", ("customers.example.com", "/a;b", None)),
]


@pytest.mark.parametrize(("method", "url", "expected"), NORMALISED, ids=[f"{m} {u}" for m, u, _ in NORMALISED])
def test_a_url_is_decoded_once_and_normalised(method, url, expected):
    request = normalise(method, url)
    assert (request.host, request.path, request.port) == expected
    assert request.method == method


# (method, URL) -> the reason code of the refusal
REFUSED = [
    ("GET", "https://customers.example.com/customers%2F1", "encoded_slash"),
    ("GET", "https://customers.example.com/customers%2f..%2fadmin", "encoded_slash"),
    ("GET", "https://customers.example.com/customers%5C1", "encoded_backslash"),
    ("GET", "https://customers.example.com/customers\\1", "backslash"),
    ("GET", "https://customers.example.com/customers/%252F1", "double_encoding"),
    ("GET", "https://customers.example.com/customers/%252e%252e/admin", "double_encoding"),
    ("GET", "https://customers.example.com/customers/%255C", "double_encoding"),
    ("GET", "https://customers.example.com/customers/%2500", "double_encoding"),
    ("GET", "https://customers.example.com/customers/1%00", "nul"),
    ("GET", "https://customers.example.com/customers/1\x00", "nul"),
    ("GET", "https://customers.example.com/customers/1%0a", "control"),
    ("GET", "https://customers.example.com/customers/1\tx", "control"),
    ("GET", "https://customers.example.com/customers/%ff", "invalid_utf8"),
    ("GET", "https://customers.example.com/customers/%C3", "invalid_utf8"),
    ("GET", "https://customers.example.com/\udcff", "invalid_utf8"),
    ("GET", "https://customers.example.com/customers/%zz", "bad_encoding"),
    ("GET", "https://customers.example.com/customers/%4", "bad_encoding"),
    ("GET", "https:///customers/1", "bad_host"),
    ("GET", "https://ada@customers.example.com/x", "bad_host"),
    ("GET", "https://customers.example.com@evil.example/x", "bad_host"),
    ("GET", "https://customers.example.com:/x", "bad_host"),
    ("GET", "https://customers.example.com:0/x", "bad_host"),
    ("GET", "https://customers.example.com:99999/x", "bad_host"),
    ("GET", "https://customers.example.com:8a/x", "bad_host"),
    ("GET", "https://custo_mers.example.com/x", "bad_host"),
    ("GET", "https://customers.example.com%2F/x", "bad_host"),
    ("GET", "https://[::1/x", "bad_url"),
    ("GET", "/customers/1", "bad_url"),
    ("GET", "customers.example.com/customers/1", "bad_url"),
    ("GET", "ftp://customers.example.com/x", "bad_url"),
    ("GET", "", "bad_url"),
    ("get", "https://customers.example.com/x", "bad_method"),
    ("", "https://customers.example.com/x", "bad_method"),
    ("G ET", "https://customers.example.com/x", "bad_method"),
]


@pytest.mark.parametrize(("method", "url", "reason"), REFUSED, ids=[f"{r}: {m!r} {u!r}" for m, u, r in REFUSED])
def test_an_ambiguous_request_is_refused_with_its_reason(method, url, reason):
    with pytest.raises(RequestRefused) as caught:
        normalise(method, url)
    assert caught.value.reason == reason
    assert "\n" not in caught.value.message


def test_the_normalised_url_has_no_query():
    assert normalise("GET", "https://A.example.com:8443//x/../y?q=1").url == "https://a.example.com:8443/y"
    assert normalise("GET", "https://[::1]/y").url == "https://[::1]/y"


# Paths made of the pieces that tricks are made of: separators, dots, escapes of them, escapes of escapes.
PIECES = st.sampled_from(["/", "//", ".", "..", "a", "customers", "%2e", "%2E", "%2f", "%5c", "%25", "%", "2f", "\\"])


# derandomize: the same 500 paths on every run and machine (a random draw once found "%aa" -> invalid_utf8, a
# right refusal the set below had missed, in CI only).
@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@example(["%", "a", "a"])
@given(st.lists(PIECES, max_size=12))
def test_any_path_is_refused_or_normal_and_normalising_again_changes_nothing(pieces):
    raw = "/" + "".join(pieces)
    try:
        path = normalise("GET", "https://a.example.com" + raw).path
    except RequestRefused as refused:
        reason = refused.reason
        path = None
    if path is None:
        assert reason in {
            "encoded_slash",
            "encoded_backslash",
            "backslash",
            "bad_encoding",
            "double_encoding",
            "invalid_utf8",  # "%aa": the byte 0xAA alone is no UTF-8
        }
        return
    assert path.startswith("/")
    assert "//" not in path
    assert "\\" not in path
    assert not {".", ".."} & set(path.split("/"))
    assert "%" not in path or not re.search(r"%[0-9A-Fa-f]{2}", path)
    again = normalise("GET", "https://a.example.com" + quote(path, safe="/")).path
    assert again == path


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="/.a", max_size=12).map(lambda tail: "/" + tail))
def test_dot_segments_are_removed_as_segment_by_segment_whatever_the_path(path):
    """At least 2,000 paths of '/', '.' and 'a': the shortcut (a path with nothing to remove is kept as it is)
    answers as the segment-by-segment removal does."""
    assert remove_dot_segments(path) == remove_dot_segments_one_by_one(path)
