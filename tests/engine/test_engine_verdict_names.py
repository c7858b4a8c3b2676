"""Each engine's verdict type has a name of its own: a text's is TextVerdict, a domain's is DomainVerdict."""

from __future__ import annotations

import typing

from smishguard.engine import sms
from smishguard.engine.domains import matcher
from smishguard.engine.sms import verdict as sms_verdict


def test_no_engine_has_a_type_named_plain_verdict() -> None:
    for module in (sms, sms_verdict, matcher):
        assert not hasattr(module, "Verdict"), module.__name__
    assert "Verdict" not in sms.__all__


def test_the_text_verdict_is_what_verdict_returns() -> None:
    from smishguard.engine.sms import TextVerdict

    result = sms.verdict("Your parcel is held, pay the fee at https://royalmail-fees.com/pay")
    assert type(result) is TextVerdict
    assert type(result).__name__ == "TextVerdict"
    assert "TextVerdict" in sms.__all__


def test_the_domain_verdict_names_the_four_answers() -> None:
    assert set(typing.get_args(matcher.DomainVerdict)) == {"lookalike", "official", "partner", "clear"}
    assert typing.get_type_hints(matcher.DomainResult)["verdict"] == matcher.DomainVerdict
