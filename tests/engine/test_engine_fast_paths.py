"""Each fast path written for speed gives exactly what the plain code it replaced gives."""

import json
import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smishguard.engine.domains import Brand, InvalidDomain, LookalikeMatcher
from smishguard.engine.sms import TextModel, verdict
from smishguard.engine.sms.links import _GATE, _gate
from smishguard.engine.sms.model import DEFAULT_MODEL_PATH

MATCHER = LookalikeMatcher([Brand("Twilio", ("twilio.com",)), Brand("Bücher", ("bücher.de",), ("buecher",))])
TEXTS = [
    "",
    "hi mum, dinner at 7?",
    "Twilio IT: your password has expired, reset it at hxxps://twilio-okta[.]com/reset",
    'Quote " and backslash \\ and tab\t and newline\n and emoji 🙂 and control \x01',
    "Visit bücher-login.de or xn--bcher-kva.de now",
    "URGENT: parcel held, pay at http://192.168.0.1/pay or bit.ly/x1",
]


@pytest.mark.parametrize("text", TEXTS)
def test_verdict_to_json_is_json_dumps_of_to_dict(text):
    v = verdict(text, matcher=MATCHER)
    assert v.to_json() == json.dumps(v.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize(
    "name", ["twilio-sso.com", "twilio.com", "example.org", "bücher-login.de", "xn--bcher-kva.de", "twi1io.com"]
)
def test_domain_result_to_json_is_json_dumps_of_to_dict(name):
    r = MATCHER.check(name)
    assert r.to_json() == json.dumps(r.to_dict(), ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "\u3002\uff0e\uff61[]()", max_size=60))
def test_link_gate_agrees_with_the_regex(text):
    assert _gate(text) == (_GATE.search(text) is not None)


def test_plain_model_reader_predicts_what_skops_loading_predicts():
    rng = random.Random(7)
    words = ["your", "account", "password", "expired", "click", "link", "win", "prize", "call", "now", "mum", "dinner"]
    texts = TEXTS + [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(200)]
    plain = TextModel.read_plain(DEFAULT_MODEL_PATH)
    full = TextModel.load(DEFAULT_MODEL_PATH)
    assert plain.probabilities(texts).tolist() == full.probabilities(texts).tolist()


def test_check_many_matches_check_one_by_one():
    names = ["twilio-sso.com", "a" * 300 + ".com", "twilio.com", "xn--zz.com", "ok.example"]
    many = list(MATCHER.check_many(names))
    for name, got in zip(names, many, strict=True):
        if isinstance(got, InvalidDomain):
            with pytest.raises(InvalidDomain, match=re.escape(str(got))):
                MATCHER.check(name)
        else:
            assert got == MATCHER.check(name)
    assert [isinstance(g, InvalidDomain) for g in many] == [False, True, False, True, False]


def test_written_out_ascii_fold_table_is_the_derived_one():
    from smishguard.engine.domains.skeleton import _ASCII_FOLD, _ascii_fold_table

    assert _ascii_fold_table() == _ASCII_FOLD
