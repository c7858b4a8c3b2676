"""Verdicts: the lookalike rule over the model, reasons for employees, the JSON shape, and bad input."""

import json

import pytest

from smishguard.engine.domains import Brand, LookalikeMatcher
from smishguard.engine.sms import TextVerdict, load_default_model, verdict, verdict_many


@pytest.fixture(scope="module")
def matcher() -> LookalikeMatcher:
    return LookalikeMatcher(
        [
            Brand("Twilio", ("twilio.com",)),
            Brand("Okta", ("okta.com",)),
            Brand("Acme Bank", ("acmebank.com", "acme.bank"), ("acmebank",)),
        ]
    )


OKTAPUS = [
    ("Twilio IT: your password has expired, reset it at twilio-sso.com", "twilio-sso.com"),
    ("Your schedule has changed. Sign in at twilio-okta.com to see it", "twilio-okta.com"),
    ("Twilio HR: please confirm your details at okta-twilio.net today", "okta-twilio.net"),
    ("IT notice: VPN access is ending, re-enrol at hxxps://twilio-vpn[.]com/enrol", "twilio-vpn.com"),
    ("Your account needs attention: twilio-help.com", "twilio-help.com"),
]


@pytest.mark.parametrize(("text", "domain"), OKTAPUS)
def test_oktapus_lures_are_smishing(matcher: LookalikeMatcher, text: str, domain: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.verdict == "smishing"
    assert v.score >= 0.9
    first = v.reasons[0]
    assert first.code == "lookalike-domain"
    assert first.detail.startswith(f"links to {domain}, which imitates Twilio's")
    assert first.detail.endswith("Twilio's own domain is twilio.com")
    assert [d.verdict for d in v.domains] == ["lookalike"]


def test_reason_wording_for_a_sign_in_lookalike(matcher: LookalikeMatcher) -> None:
    v = verdict("Please log in at twilio-okta.com", matcher=matcher)
    assert v.reasons[0].detail == (
        "links to twilio-okta.com, which imitates Twilio's sign-in; Twilio's own domain is twilio.com"
    )


def test_rule_wins_over_a_benign_model(matcher: LookalikeMatcher) -> None:
    text = "hi, lunch at 1? menu is at twilio-sso.com"
    model = load_default_model()
    (prediction,) = model.predict([text])
    v = verdict(text, matcher=matcher)
    assert v.model_label == prediction.label
    assert v.verdict == "smishing"
    without_brands = verdict(text)
    assert without_brands.verdict == {"ham": "benign"}.get(prediction.label, prediction.label)


def test_several_own_domains_are_named(matcher: LookalikeMatcher) -> None:
    v = verdict("Acme Bank: unlock your card at acmebank-secure.com/unlock", matcher=matcher)
    assert v.verdict == "smishing"
    assert "Acme Bank's own domains are acmebank.com and acme.bank" in v.reasons[0].detail


def test_official_domain_is_not_a_lookalike(matcher: LookalikeMatcher) -> None:
    v = verdict("Your rota for next week is on https://www.twilio.com/rota", matcher=matcher)
    assert [d.verdict for d in v.domains] == ["official"]
    assert "lookalike-domain" not in {r.code for r in v.reasons}
    assert "official-domain" in {r.code for r in v.reasons}


@pytest.mark.parametrize(
    "text",
    [
        "Hey, are we still on for dinner tonight? I'll bring the wine",
        "Ok lar... Joking wif u oni...",
        "Running 10 mins late, sorry! See you at the station",
    ],
)
def test_ordinary_messages_are_benign(matcher: LookalikeMatcher, text: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.verdict == "benign"
    assert v.score < 0.5


def test_prize_spam_is_flagged() -> None:
    v = verdict("WINNER!! You have won a 1000 cash prize. Call 09061701461 to claim. T&C apply 18+")
    assert v.verdict in {"spam", "smishing"}
    assert v.score > 0.8


def test_json_shape(matcher: LookalikeMatcher) -> None:
    d = verdict("Twilio IT: reset at twilio-sso.com and bit.ly/x", matcher=matcher).to_dict()
    assert list(d) == ["verdict", "score", "reasons", "urls", "domains"]
    assert d["verdict"] in {"smishing", "spam", "benign"}
    assert 0.0 <= d["score"] <= 1.0
    assert all(set(r) == {"code", "detail"} for r in d["reasons"])
    assert d["urls"] == ["http://twilio-sso.com", "http://bit.ly/x"]
    for dom in d["domains"]:
        assert list(dom) == ["domain", "registrable", "verdict", "brand", "techniques", "score", "reasons", "matcher"]
    assert json.loads(json.dumps(d)) == d
    codes = [r["code"] for r in d["reasons"]]
    assert codes[0] == "lookalike-domain"
    assert "shortener" in codes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "empty"),
        (12345, "not-text"),
        (b"\xff\xfe caf\xc3\xa9 bit.ly/x", "invalid-utf8"),
        ("reset \x00\x07at\x1b twilio-sso.com", "control-characters"),
        ("zero\u200bwidth", "control-characters"),
        ("x" * 1_000_000, "truncated"),
        ("See you there! " * 70_000 + "twilio-sso.com", "truncated"),
    ],
)
def test_bad_input_gives_a_verdict(matcher: LookalikeMatcher, text: object, code: str) -> None:
    v = verdict(text, matcher=matcher)  # type: ignore[arg-type]
    assert isinstance(v, TextVerdict)
    assert code in {r.code for r in v.reasons}
    json.dumps(v.to_dict())


@pytest.mark.parametrize(
    "text",
    [
        "http://[::zz]/x http://exa mple.com/ :// hxxp://[.] http://%%%.com",
        "reset at xn--twlio-8na.com/reset",  # an IDN the brand matcher refuses
        "reset at xn--99999.com/x",  # punycode that will not decode
        "http://" + "a" * 300 + ".com/x",
        "a." * 200 + "com",
        "\ud800 twilio-sso.com \udfff",
    ],
)
def test_malformed_links_give_a_verdict(matcher: LookalikeMatcher, text: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.verdict in {"smishing", "spam", "benign"}
    json.dumps(v.to_dict())


def test_control_characters_do_not_hide_a_lookalike(matcher: LookalikeMatcher) -> None:
    v = verdict("reset at twilio\u200b-sso.com now", matcher=matcher)
    assert v.verdict == "smishing"


def test_truncation_is_said_and_a_link_past_it_is_not_read(matcher: LookalikeMatcher) -> None:
    v = verdict("hello " * 5000 + "twilio-sso.com", matcher=matcher)
    assert v.urls == ()
    assert "truncated" in {r.code for r in v.reasons}


def test_verdict_many_matches_single_verdicts_in_order(matcher: LookalikeMatcher) -> None:
    texts = [t for t, _ in OKTAPUS] + ["hi mum", "", "WIN a prize at prize.xyz/claim", None] * 3
    batched = list(verdict_many(texts, matcher=matcher, batch_size=4))
    single = [verdict(t, matcher=matcher) for t in texts]
    assert [v.to_dict() for v in batched] == [v.to_dict() for v in single]


def test_verdict_many_is_lazy_and_takes_any_iterable(matcher: LookalikeMatcher) -> None:
    def endless():
        while True:
            yield "reset it at twilio-sso.com"

    it = verdict_many(endless(), matcher=matcher, batch_size=8)
    assert [next(it).verdict for _ in range(20)] == ["smishing"] * 20


def test_no_matcher_means_no_brand_rule() -> None:
    v = verdict("Twilio IT: your password has expired, reset it at twilio-sso.com")
    assert v.domains == ()
    assert v.urls == ("http://twilio-sso.com",)
    assert "identity-keyword" in {r.code for r in v.reasons}


# --- spam or smishing: a text with no link and a premium-rate number (issue 11, item 13) ---------------------

UCI_PRIZE = (
    "WINNER!! As a valued network customer you have been selected to receivea £900 prize reward! "
    "To claim call 09061701461. Claim code KL341. Valid 12 hours only."
)

SPAM_OR_SMISHING = [
    # (text, with the brands?, expected verdict, a reason code it must give)
    (UCI_PRIZE, False, "spam", "premium-rate-number"),
    (UCI_PRIZE, True, "spam", "premium-rate-number"),
    (
        "YOU HAVE WON! Our computer has picked YOU to win a £150 prize. To collect just call 09061743386",
        False,
        "spam",
        "premium-rate-number",
    ),
    (
        "Todays Voda numbers ending 7548 are selected to receive a $350 award. If you have a match please call "
        "0871 230 0220 quoting claim code 4041",
        False,
        "spam",
        "premium-rate-number",
    ),
    (
        "URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Call +44 906 170 1461 now",
        False,
        "spam",
        "premium-rate-number",
    ),
    # a prize that links to a lookalike of a protected brand is smishing, number or not
    (
        "WINNER!! Your Twilio loyalty prize of £900 is waiting: claim it at twilio-sso.com or call 09061701461",
        True,
        "smishing",
        "lookalike-domain",
    ),
    # a credential ask by phone is smishing even without a link
    (
        "Your account is locked. Call 09061701461 now and give your password to verify your account",
        False,
        "smishing",
        "credential-ask",
    ),
    (
        "Security alert: to keep your card active call 09061701461 and confirm your PIN and card details",
        False,
        "smishing",
        "credential-ask",
    ),
    # the company's IT wording with a protected brand: smishing even without a link
    (
        "Twilio IT helpdesk: your VPN access ends today. Call 09061701461 to keep it",
        True,
        "smishing",
        "brand-it-wording",
    ),
]


@pytest.mark.parametrize(("text", "with_brands", "expected", "code"), SPAM_OR_SMISHING)
def test_spam_or_smishing(matcher: LookalikeMatcher, text: str, with_brands: bool, expected: str, code: str) -> None:
    v = verdict(text, matcher=matcher if with_brands else None)
    assert (v.verdict, code) == (expected, next((r.code for r in v.reasons if r.code == code), None))
    assert v.score > 0.5  # unwanted either way


def test_the_premium_rate_reason_names_the_number_and_says_spam() -> None:
    v = verdict(UCI_PRIZE)
    reason = next(r for r in v.reasons if r.code == "premium-rate-number")
    assert "09061701461" in reason.detail
    assert "spam" in reason.detail
    assert v.reasons[0] is reason  # the reason for the verdict comes first


@pytest.mark.parametrize(
    "text",
    [
        "Your parcel is held at the depot, call 02079460000 to rearrange delivery",  # an ordinary London number
        "Hi mum, can you call me back on 07700900123 when you are free",
        "Ring 090617 when you land, it's the gate code",  # too short to be a premium-rate number
    ],
)
def test_no_premium_rate_reason_without_a_premium_rate_number(text: str) -> None:
    assert "premium-rate-number" not in {r.code for r in verdict(text).reasons}
