"""check_many reads a list of names a block at a time (matcher._check_block): the names that plainly imitate no
brand are answered together, the rest by ``check``.  Its answers must be check's, name by name: the same
DomainResult (verdict, brand, techniques, score, reasons, matcher version) or the same InvalidDomain.  Pinned here
on every domain of the evaluation sets (the 2022 Oktapus wave, our own labelled forms, the 50,000 Tranco domains
with the 50 and the 100 brands, the 100,000 names of the domains benchmark) and on generated names made to
reach every early test of check (tokens, keywords, typos, short tokens, official and partner domains, deeper
public suffixes, wildcards and their exceptions, restricted suffixes, bad names, IDN, blocks' edges).

Reads ../shared/data (beside the repository) or $SMISHGUARD_SHARED_DATA, as the false-positive test does.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

import lookalike_eval
import pytest

from smishguard.engine.domains import Brand, InvalidDomain, LookalikeMatcher, load_brand_config, words
from smishguard.engine.domains import matcher as matcher_module
from smishguard.engine.domains.brands import DEFAULT_KEYWORDS
from smishguard.engine.domains.hosts import psl_suffixes

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
BLOCK = matcher_module._BLOCK


def shared_data() -> Path:
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def read_domains(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [s for line in f if (s := line.strip()) and not s.startswith("#")]


def brands_100() -> tuple[list[Brand], list[str]]:
    brands: list[Brand] = []
    keywords: list[str] = []
    for name in ("brands_50.toml", "brands_extra_50.toml"):
        b, k = load_brand_config(HERE / name)
        brands += b
        keywords += k
    return brands, keywords


def answer(x: object) -> object:
    """A result as it compares: a DomainResult is a tuple; an exception by its type and message."""
    if isinstance(x, Exception):
        return (type(x).__name__, str(x), getattr(x, "reason", None))
    return x


def one_by_one(matcher: LookalikeMatcher, names: Sequence[object]) -> list[object]:
    out: list[object] = []
    for name in names:
        try:
            out.append(answer(matcher.check(name)))  # type: ignore[arg-type]
        except InvalidDomain as exc:
            out.append(answer(exc))
    return out


def assert_same_as_check(make: object, names: Sequence[object]) -> None:
    """check_many over the list (blocks), with the stem cache on and off, == check name by name on a matcher of
    its own (no cache shared with the blocks); the tuple of the same names too."""
    each = one_by_one(make(0), names)  # type: ignore[operator]
    assert len(each) == len(names)
    for cache_size in (0, 65536):
        by_block = [answer(r) for r in make(cache_size).check_many(list(names))]  # type: ignore[operator]
        assert len(by_block) == len(names)
        differ = [(names[i], by_block[i], each[i]) for i in range(len(names)) if by_block[i] != each[i]]
        assert not differ, differ[:5]
    few = tuple(names[: 3 * BLOCK])
    assert [answer(r) for r in make(0).check_many(few)] == each[: len(few)]  # type: ignore[operator]


def test_the_2022_oktapus_wave_reads_the_same_by_blocks() -> None:
    data = shared_data() / "domains"
    domains = read_domains(data / "oktapus_2022.txt")
    assert len(domains) == 174
    brands, keywords = load_brand_config(data / "oktapus_brands.toml")
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), domains)


def test_our_labelled_forms_read_the_same_by_blocks() -> None:
    forms = [domain for domain, _, _ in lookalike_eval.read_forms()]
    assert len(forms) >= 60
    brands, keywords = load_brand_config(lookalike_eval.EVAL_BRANDS)
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), forms)


def test_tranco_with_the_50_brands_reads_the_same_by_blocks() -> None:
    domains = read_domains(shared_data() / "domains" / "tranco_ranks_50001_100000.txt")
    assert len(domains) == 50_000
    brands, keywords = load_brand_config(HERE / "brands_50.toml")
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), domains)


def test_the_domains_benchmark_with_100_brands_reads_the_same_by_blocks() -> None:
    """The 100,000 names bench/bench_domains_cli.py times: the Tranco half, then each moved to another suffix."""
    real = read_domains(shared_data() / "domains" / "tranco_ranks_50001_100000.txt")
    moved = []
    for suffix, d in zip(("net", "org", "io", "co.uk", "de", "app", "xyz", "com.au", "online"), real, strict=False):
        moved.append(f"{d.split('.', 1)[0]}.{suffix}")
    rng = random.Random(15)
    suffixes = ("net", "org", "io", "co", "info", "de", "co.uk", "app", "xyz", "online", "com", "eu", "biz")
    moved += [f"{d.split('.', 1)[0]}.{rng.choice(suffixes)}" for d in real]
    brands, keywords = brands_100()
    names = real + moved
    # with a line under the line too (min_score): "clear" with its evidence kept must come out the same
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), names)
    assert_same_as_check(
        lambda size: LookalikeMatcher(brands, keywords, cache_size=size, min_score=0.9), names[:20_000]
    )


def generated_names(brands: Sequence[Brand], keywords: Sequence[str], n: int, seed: int) -> list[object]:
    """Names made to reach each early test of check: brand tokens whole, glued, hyphenated, misspelt, folded
    (0/1/l, rn), beside keywords, short tokens, official and partner domains and hosts below them, public suffixes
    with deeper rules (private ones, wildcards, exceptions), restricted suffixes, bad names of every kind."""
    rng = random.Random(seed)
    tokens = sorted({t for b in brands for t in (*b.tokens, b.name.lower().replace(" ", ""))} | {"att", "cb", "tmo"})
    official = sorted({d for b in brands for d in b.domains})
    partners = sorted({d for b in brands for d in b.partners})
    words = ["acme", "news", "shop", "cloud", "bank", "my", "the", "uk", "world", "ctx", "zeta", "orange", "box"]
    words += list(keywords) + list(DEFAULT_KEYWORDS[:20])
    public, private = psl_suffixes()
    suffixes = ["com", "net", "org", "co.uk", "com.au", "de", "io", "gov", "gov.uk", "mil", "edu", "ac.uk", "ck"]
    suffixes += rng.sample(public, 40) + rng.sample(private, 40)
    suffixes += [s.replace("*.", "x.") for s in public if s.startswith("*.")][:10]
    suffixes += ["www.ck", "nosuchtld", "local", "co"]

    def typo(t: str) -> str:
        if len(t) < 3:
            return t
        i = rng.randrange(len(t))
        op = rng.randrange(4)
        if op == 0:
            return t[:i] + t[i + 1 :]
        if op == 1:
            return t[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz0-") + t[i:]
        if op == 2 and i < len(t) - 1:
            return t[:i] + t[i + 1] + t[i] + t[i + 2 :]
        return t[:i] + rng.choice("01lrnmio") + t[i + 1 :]

    def disguise(t: str) -> str:
        return t.replace("o", rng.choice("o0")).replace("l", rng.choice("l1i")).replace("m", rng.choice(["m", "rn"]))

    def stem() -> str:
        t = rng.choice(tokens)
        form = rng.randrange(12)
        w = rng.choice(words)
        if form == 0:
            return t
        if form == 1:
            return f"{t}-{w}"
        if form == 2:
            return f"{w}-{t}"
        if form == 3:
            return f"{w}{t}"
        if form == 4:
            return f"{t}{w}"
        if form == 5:
            return typo(t)
        if form == 6:
            return f"{typo(t)}-{w}"
        if form == 7:
            return disguise(f"{t}{rng.choice(['', '-'])}{w}")
        if form == 8:
            return "-".join(rng.sample(words, 2)) + rng.choice(["", "1", "-24", "365"])
        if form == 9:
            return t[: len(t) // 2] + "-" + t[len(t) // 2 :]
        if form == 10:
            return f"{t}{rng.choice('sx1')}"
        return rng.choice(words) + rng.choice(words)

    def name() -> object:
        kind = rng.randrange(20)
        suffix = rng.choice(suffixes)
        if kind < 9:
            return f"{stem()}.{suffix}"
        if kind < 11:
            return f"{stem()}.{stem()}.{suffix}"
        if kind == 11:
            return (
                rng.choice(official)
                if rng.random() < 0.5
                else f"{rng.choice(['login', 'a.b', 'www'])}.{rng.choice(official)}"
            )
        if kind == 12 and partners:
            return rng.choice(partners) if rng.random() < 0.5 else f"x.{rng.choice(partners)}"
        if kind == 13:  # the suffix itself, one label above it, or a name the trie holds
            return rng.choice([suffix, f"www.{suffix}", rng.choice(private), f"foo.{rng.choice(private)}"])
        if kind == 14:  # case, spaces, dots, wildcards: names check normalises
            return rng.choice(
                [f" {stem()}.COM ", f"{stem()}.com.", f"*.{stem()}.net", f"{stem().upper()}.Org", f"\t{stem()}.io"]
            )
        if kind == 15:  # IDN and punycode
            return rng.choice(
                [
                    "twílio-sso.com",
                    "xn--80ak6aa92e.com",
                    "\u0430tt-login.com",
                    "\uff54\uff57\uff49\uff4c\uff49\uff4f.com",
                    "\u212aacme.com",
                ]
            )
        if kind == 16:  # not a host
            return rng.choice(
                ["", ".", "a..b.com", "-acme.com", "acme-.com", "acme.-com", "1.2.3.4", "acme.123", "x" * 64 + ".com",
                 "http://acme.com", "acme com", "xn--zz.com", "a\u0000b.com", "ac\rme.com"]
            )  # fmt: skip
        if kind == 17:  # a label next to the 63-character line
            return "a" * rng.choice([61, 62, 63]) + rng.choice(["", ".c", ".co"])
        if kind == 18:  # restricted suffixes: only subdomain labels count
            return f"{rng.choice(['login.', ''])}{stem()}.{rng.choice(['gov', 'gov.uk', 'mil', 'edu', 'ac.uk'])}"
        return f"{stem()}-{rng.choice(words)}.{suffix}"

    return [name() for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_names_read_the_same_by_blocks(seed: int) -> None:
    brands, keywords = brands_100()
    with_partners = [
        *brands,
        Brand("Acme", ("acme.com",), ("acmecorp",), partners=("acme-reseller.com", "shop.acmefr.net")),
    ]
    names = generated_names(with_partners, keywords, 6_000, seed)
    assert_same_as_check(lambda size: LookalikeMatcher(with_partners, keywords, cache_size=size), names)


def test_a_block_with_a_line_break_or_a_name_that_is_not_a_str_is_read_one_by_one() -> None:
    brands, keywords = brands_100()
    good = ["twilio-sso.com", "example.com", "okta-acme.net"]
    by_block, each = LookalikeMatcher(brands, keywords), LookalikeMatcher(brands, keywords)
    for odd in ("acme.com\ntwilio-sso.com", None, 42, b"twilio-sso.com"):
        names = [*good * 400, odd, *good * 400]
        assert [answer(r) for r in by_block.check_many(names)] == one_by_one(each, names)


def test_bad_names_at_the_edges_of_blocks() -> None:
    """A bad, a non-ASCII or a flagged name first and last in a block, and alone in a block of one."""
    brands, keywords = brands_100()
    rng = random.Random(3)
    names: list[object] = [f"plain{i}.com" for i in range(3 * BLOCK + 1)]
    for at in (0, BLOCK - 1, BLOCK, 2 * BLOCK - 1, 2 * BLOCK, 3 * BLOCK - 1, 3 * BLOCK):
        names[at] = rng.choice(["", "-a.com", "a.com.", "twílio.com", "twilio-sso.com", "a..com", "x.c0m9", "b.co.uk"])
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), names)
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), names[-1:])
    assert list(LookalikeMatcher(brands, keywords).check_many([])) == []


def test_a_list_that_grows_while_it_is_read_is_read_to_its_end() -> None:
    """As a plain loop over a list would: names appended while the answers are read are answered too."""
    brands, keywords = brands_100()
    names = ["example.com"] * (BLOCK + 5)
    seen = []
    for r in LookalikeMatcher(brands, keywords).check_many(names):
        seen.append(r)
        if len(names) < 2 * BLOCK + 10:
            names.append("twilio-sso.com")
    assert len(seen) == len(names)
    assert seen[-1].verdict == "lookalike"


@pytest.mark.parametrize("top", [1, 2, 60_000, 70_000, 333_333, 400_000])
def test_the_word_counts_read_from_the_start_of_the_file_are_those_of_the_whole_file(monkeypatch, top: int) -> None:
    """words._unigrams reads only the start of wordsegment's counts (a megabyte at a time): the same words and
    counts, in the same order, as splitting the whole file, for the number of words the splitter uses and others."""
    monkeypatch.setattr(words, "TOP_WORDS", top)
    words._unigrams.cache_clear()
    try:
        fields = words._unigram_path().read_text("utf-8").split(None, 2 * top)[: 2 * top]
        whole = dict(zip(fields[0::2], fields[1::2], strict=True))
        read = words._unigrams()
        assert list(read.items()) == list(whole.items())
        assert len(read) == (top if top <= 60_000 else len(whole))
    finally:
        words._unigrams.cache_clear()


def test_names_that_the_suffix_trie_holds_or_that_a_wildcard_covers() -> None:
    """Public suffixes with deeper rules (private ones: blogspot.com, herokuapp.com), wildcards and their
    exceptions (*.ck, !www.ck), names one label below them, and brand tokens there."""
    brands, keywords = brands_100()
    public, private = psl_suffixes()
    names = [
        "blogspot.com", "x.blogspot.com", "github.io", "twilio-sso.github.io", "herokuapp.com", "okta.herokuapp.com",
        "x.herokuapp.com", "s3.amazonaws.com", "x.s3.amazonaws.com", "ck", "foo.ck", "www.ck", "a.www.ck",
        "paypal.foo.ck", "co.uk", "uk", "com", "google.co.uk", "google.uk", "pvt.k12.ma.us", "x.pvt.k12.ma.us",
    ]  # fmt: skip
    names += [*private] + [f"twilio-sso.{p}" for p in private[:500]] + [f"x.{p}" for p in public[:1500]]
    names += [p.replace("*.", "paypal.") for p in public if p.startswith("*.")]
    names += ["!" + p for p in public if p.startswith("!")]
    # labels the trie holds only on the way to a deeper rule (funkfeuer.at for wien.funkfeuer.at): not a suffix
    rules = {r.lstrip("*.!") for r in (*public, *private)}
    between = sorted({r.split(".", i)[i] for r in rules for i in range(1, r.count("."))} - rules)
    assert len(between) > 100
    names += [f"x.{b}" for b in between] + [f"twilio-sso.{b}" for b in between] + [f"a.x.{b}" for b in between]
    assert_same_as_check(lambda size: LookalikeMatcher(brands, keywords, cache_size=size), names)
