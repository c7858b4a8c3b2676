"""A text whose links all go to official domains is not smishing on wording alone (made-up brands).

Each text below is one the shipped model calls "smishing" on its wording: every test checks that first, so a
retrained model that no longer does makes the test fail loudly instead of passing without exercising the rule.
"""

import pytest

from smishguard.engine.domains import Brand, LookalikeMatcher
from smishguard.engine.sms import verdict


@pytest.fixture(scope="module")
def matcher() -> LookalikeMatcher:
    return LookalikeMatcher(
        [
            Brand("Globex", ("globex.com",)),
            Brand("Initech", ("initech.com", "initech.io")),
            Brand("Hooli", ("hooli.xyz",)),
            # made-up names for real domains where anyone can publish (data/user_content_hosts.txt)
            Brand("Chatter", ("whatsapp.com",)),
            Brand("Linkd", ("linkedin.com",)),
        ]
    )


def codes(v) -> list[str]:
    return [r.code for r in v.reasons]


# (text, the official registrable domains its reason names)
OFFICIAL_ONLY = [
    ("Globex: your account has been suspended. Restore access now at https://www.globex.com/restore", ["globex.com"]),
    ("URGENT! Your Globex parcel is on hold. Pay the redelivery fee at https://globex.com/parcel", ["globex.com"]),
    ("Dear customer, your package could not be delivered. Update delivery at login.globex.com/track", ["globex.com"]),
    ("URGENT: your bank card is blocked. Re-activate at https://initech.io/card now", ["initech.io"]),
    (
        "URGENT: your account is suspended. Restore it at https://globex.com/restore or https://initech.com/help",
        ["globex.com", "initech.com"],
    ),
]


@pytest.mark.parametrize(("text", "owned"), OFFICIAL_ONLY)
def test_wording_alone_does_not_make_official_links_smishing(
    matcher: LookalikeMatcher, text: str, owned: list[str]
) -> None:
    v = verdict(text, matcher=matcher)
    assert v.model_label == "smishing"  # the precondition: the wording reads like smishing
    assert {d.verdict for d in v.domains} == {"official"}
    runner_up = max(("ham", "spam"), key=v.probabilities.__getitem__)
    assert v.verdict == {"ham": "benign", "spam": "spam"}[runner_up]
    first = v.reasons[0]
    assert first.code == "official-links-only"
    for domain in owned:
        assert domain in first.detail
    assert "the wording alone does not make it smishing" in first.detail
    assert first.detail.endswith("spam" if runner_up == "spam" else "an ordinary message")
    assert "text-model" in codes(v)  # the model's own reading is still shown
    assert v.score == pytest.approx(1.0 - v.probabilities["ham"])  # the score stays the model's


def test_reason_names_the_brand_and_its_domain(matcher: LookalikeMatcher) -> None:
    v = verdict("URGENT: your bank card is blocked. Re-activate at https://initech.io/card now", matcher=matcher)
    assert v.reasons[0].detail.startswith("every link goes to initech.io, Initech's own domain, and nothing else")


BASE = "Globex: your account has been suspended. Restore access now at "
# (text, what the reason says stops the rule)
OTHER_SIGNAL = [
    (BASE + "https://globex.com/r?u=https://restore-account.example/x", "carries another address"),
    (BASE + "https://globex.com/go?to=www.restore-account.example", "carries another address"),
    (BASE + "hxxps://globex[.]com/restore", "written in a disguised form"),
    (BASE + "https://globex.com/restore or call 0800 123 4567", "gives a number to call or text (0800 123 4567)"),
    ("Globex: your account has been suspended. Confirm your password at https://globex.com/restore", "password"),
    ("Globex: account suspended. Send your card details via https://globex.com/restore", "card details"),
    (BASE + "https://globex.com/restore or write to restore @ globex-help.example", "an email address"),
    ("Your Initech account is locked. Unlock it now at https://globex.com/restore", "speaks for Initech"),
]


PUBLIC = "Dear, your account has been suspended. Restore access now at "
USER_CONTENT = [
    (PUBLIC + "https://chat.whatsapp.com/HLdIKFgZf72BZh3", "chat.whatsapp.com"),  # a host anyone publishes on
    (PUBLIC + "https://www.linkedin.com/slink?code=d8KfdKXY", "www.linkedin.com"),  # a path prefix
]


@pytest.mark.parametrize(("text", "host"), USER_CONTENT)
def test_a_page_anyone_can_publish_is_no_official_link(matcher: LookalikeMatcher, text: str, host: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.model_label == "smishing"
    assert {d.verdict for d in v.domains} == {"official"}
    assert v.verdict == "smishing"
    reason = next(r for r in v.reasons if r.code == "official-links-and-signal")
    assert f"the link goes to {host}, where anyone can publish a page, a form or a file" in reason.detail


def test_other_paths_of_a_user_content_domain_are_official(matcher: LookalikeMatcher) -> None:
    v = verdict(PUBLIC + "https://www.linkedin.com/help/restore", matcher=matcher)
    assert v.model_label == "smishing"
    assert v.reasons[0].code == "official-links-only"
    assert v.verdict != "smishing"


@pytest.mark.parametrize(("text", "signal"), OTHER_SIGNAL)
def test_another_smishing_signal_keeps_it_smishing(matcher: LookalikeMatcher, text: str, signal: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.model_label == "smishing"
    # the official link; a redirect's carried address is checked too (clear here: tests/engine/sms/
    # test_sms_open_redirects.py has the lookalike case)
    assert {d.verdict for d in v.domains} <= {"official", "clear"}
    assert v.verdict == "smishing"
    assert "official-links-only" not in codes(v)
    reason = next(r for r in v.reasons if r.code == "official-links-and-signal")
    assert signal in reason.detail
    assert reason.detail.startswith("every link goes to globex.com, Globex's own domain, but ")


NOT_ALL_OFFICIAL = [
    BASE + "https://globex.com/restore or bit.ly/abc123",  # a shortener beside the official link
    BASE + "https://globex.com/restore or http://203.0.113.7/restore",  # a bare IP address
    BASE + "https://globex.com/restore or https://example-restore.net",  # a domain of nobody's
    BASE + "https://globex-sso.com/restore",  # a lookalike
]


@pytest.mark.parametrize("text", NOT_ALL_OFFICIAL)
def test_rule_needs_every_link_official(matcher: LookalikeMatcher, text: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.model_label == "smishing"
    assert v.verdict == "smishing"
    assert not {"official-links-only", "official-links-and-signal"} & set(codes(v))


def test_without_brands_the_model_stands() -> None:
    text = OFFICIAL_ONLY[0][0]
    v = verdict(text)
    assert v.model_label == "smishing"
    assert v.verdict == "smishing"
    assert "official-links-only" not in codes(v)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("FREE ringtone! Reply TONE to get yours now, more at www.globex.com/tones", "spam"),
        ("Ok, see you at 6. The address is on globex.com/contact", "ham"),
    ],
)
def test_a_model_label_other_than_smishing_is_left_alone(matcher: LookalikeMatcher, text: str, label: str) -> None:
    v = verdict(text, matcher=matcher)
    assert v.model_label == label
    assert v.verdict == {"ham": "benign", "spam": "spam"}[label]
    assert not {"official-links-only", "official-links-and-signal"} & set(codes(v))


def test_an_ordinary_message_with_a_company_link_is_benign(matcher: LookalikeMatcher) -> None:
    # The link features lean towards smishing for any link: this is the case the rule is for.
    v = verdict(
        "Sorry I missed your call, the minutes of the meeting are at https://globex.com/minutes", matcher=matcher
    )
    assert v.model_label == "smishing"
    assert v.probabilities["ham"] > v.probabilities["spam"]
    assert v.verdict == "benign"
    assert v.reasons[0].code == "official-links-only"
    assert v.reasons[0].detail.endswith("so it is taken as an ordinary message")
