"""Benchmark: CT log entries parsed per second on one core (and names matched per second, 100 brands).

    .venv/bin/python bench/bench_ct.py [--entries 4000] [--rounds 5] [--names 100000]

Entries are realistic leaves: the four real RFC 6962 leaves of ../shared/data/ct (get-entries form, with
their issuer chains) plus certificates and precertificates issued here with ``cryptography`` carrying a
public CA leaf's extensions, half X.509 entries and half precert entries, 1-4 SAN names each. Two paths are
timed: the RFC 6962 path from a decoded get-entries JSON body (base64 included) and the static-CT path from
data tiles. Names matched uses smishguard.engine.domains.LookalikeMatcher over distinct names.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
SHARED_CT = ROOT.parent / "shared" / "data" / "ct"

import ct_logs  # noqa: E402 - path set above

from smishguard.engine.ct import parse_data_tile, parse_get_entries  # noqa: E402

BRANDS = [
    "Twilio", "Okta", "Cloudflare", "Microsoft", "Google", "Apple", "Amazon", "PayPal", "Netflix", "Facebook",
    "Instagram", "LinkedIn", "Dropbox", "Salesforce", "Slack", "Zoom", "Atlassian", "GitHub", "GitLab", "Adobe",
    "Oracle", "Cisco", "Intel", "Nvidia", "Samsung", "Sony", "Spotify", "Uber", "Airbnb", "Shopify",
    "Stripe", "Square", "Coinbase", "Binance", "Kraken", "Robinhood", "Fidelity", "Vanguard", "Schwab", "Chase",
    "Wellsfargo", "Citibank", "Barclays", "HSBC", "Santander", "Revolut", "Monzo", "Wise", "Klarna", "Venmo",
    "Mailchimp", "Sendgrid", "Hubspot", "Zendesk", "Freshdesk", "Workday", "ServiceNow", "Snowflake",
    "Datadog", "Splunk", "Elastic", "MongoDB", "Redis", "DigitalOcean", "Linode", "Heroku", "Vercel", "Netlify",
    "Fastly", "Akamai", "Verizon", "Comcast", "Vodafone", "Orange", "Telekom", "Tmobile", "Sprint", "Xfinity",
    "Duo", "Ping", "OneLogin", "Auth0", "LastPass", "Bitwarden", "Dashlane", "Keeper", "Yubico", "DocuSign",
    "Box", "Asana", "Trello", "Notion", "Figma", "Canva", "Miro", "Webex", "Bamboohr", "Gusto", "Rippling",
    "Twitch",
]  # fmt: skip
WORDS = [
    "shop", "cloud", "data", "mail", "blog", "news", "app", "dev", "home", "store", "green", "blue", "city",
    "photo", "travel", "food", "garden", "music", "sport", "art", "tech", "bank", "auto", "pet", "book",
]  # fmt: skip
KEYWORDS = ["sso", "okta", "login", "support", "helpdesk", "vpn", "auth", "verify", "account", "hr"]
TLDS = ["com", "net", "org", "io", "co.uk", "de", "app", "dev", "xyz", "info"]


def _random_host(rng: random.Random, n: int) -> str:
    if n % 50 == 0:  # a lookalike now and then
        return f"h{n}.{rng.choice(BRANDS).lower()}-{rng.choice(KEYWORDS)}.{rng.choice(TLDS)}"
    return f"{rng.choice(WORDS)}{rng.choice(WORDS)}{n}.{rng.choice(TLDS)}"


def build_corpus(count: int, seed: int = 7) -> tuple[list[dict], list[bytes]]:
    """(get-entries items, data tiles) for ``count`` generated entries plus the four real fixture leaves."""
    rng = random.Random(seed)
    ca = ct_logs.TestCA("Bench Issuing CA R1")
    items: list[dict] = []
    tile_leaves: list[bytes] = []
    for n in range(count):
        host = _random_host(rng, n)
        names = [host] + [f"{p}.{host}" for p in rng.sample(["www", "mail", "api", "cdn"], rng.randint(0, 3))]
        issued = ca.issue(names, precert=n % 2 == 1, realistic=True)
        record = ct_logs.LogEntryRecord(issued, 1_772_366_400_000 + n, ca)
        items.append(
            {
                "leaf_input": base64.b64encode(record.leaf_input()).decode(),
                "extra_data": base64.b64encode(record.extra_data()).decode(),
            }
        )
        tile_leaves.append(record.tile_leaf())
    real = json.loads((SHARED_CT / "ctgo_scanner_get-entries_4.json").read_text())["entries"]
    for i, item in enumerate(real):  # the real leaves, spread through the corpus
        items.insert((i + 1) * len(items) // (len(real) + 1), item)
    tiles = [b"".join(tile_leaves[i : i + 256]) for i in range(0, len(tile_leaves), 256)]
    return items, tiles


def time_it(fn, rounds: int) -> tuple[float, float]:
    """Best wall time and best CPU time (this process, one core) over ``rounds`` runs."""
    best_wall = best_cpu = float("inf")
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def bench_parse(entries: int, rounds: int) -> dict:
    items, tiles = build_corpus(entries)
    bodies = [json.dumps({"entries": items[i : i + 256]}).encode() for i in range(0, len(items), 256)]

    def rfc6962() -> None:
        start = 0
        for body in bodies:
            parsed = parse_get_entries(json.loads(body), start=start)
            assert not parsed.errors, parsed.errors[:1]
            start += parsed.count

    def static() -> None:
        for n, tile in enumerate(tiles):
            parsed = parse_data_tile(tile, first_index=n * 256)
            assert not parsed.errors

    rfc_wall, rfc_cpu = time_it(rfc6962, rounds)
    tile_wall, tile_cpu = time_it(static, rounds)
    tile_entries = sum(parse_data_tile(t, first_index=0).count for t in tiles)
    return {
        "entries_rfc6962": len(items),
        "rfc6962_entries_per_s_wall": round(len(items) / rfc_wall),
        "rfc6962_entries_per_cpu_s": round(len(items) / rfc_cpu),
        "entries_static": tile_entries,
        "static_entries_per_s_wall": round(tile_entries / tile_wall),
        "static_entries_per_cpu_s": round(tile_entries / tile_cpu),
    }


def bench_names(count: int, rounds: int) -> dict:
    try:
        from smishguard.engine.domains import Brand, InvalidDomain, LookalikeMatcher
    except ImportError as exc:
        return {"names_per_s_wall": None, "note": f"domains matcher not available: {exc}"}
    brands = [Brand(name, (f"{name.lower()}.com",)) for name in BRANDS]
    assert len(brands) == 100
    rng = random.Random(11)
    names = list(dict.fromkeys(f"{p}{_random_host(rng, n)}" for n in range(count) for p in [rng.choice(["", "www."])]))
    flagged = 0

    def run() -> None:
        nonlocal flagged
        matcher = LookalikeMatcher(brands)  # fresh: no warm cache from the previous round
        flagged = 0
        for name in names:
            try:
                if matcher.check(name).verdict == "lookalike":
                    flagged += 1
            except InvalidDomain:
                pass

    wall, cpu = time_it(run, rounds)
    build_wall, build_cpu = time_it(lambda: LookalikeMatcher(brands), rounds)
    return {
        "distinct_names": len(names),
        "brands": len(brands),
        "matcher_build_s": round(build_wall, 3),
        "names_per_s_wall": round(len(names) / (wall - build_wall)),
        "names_per_cpu_s": round(len(names) / (cpu - build_cpu)),
        "lookalikes_flagged": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=4000, help="generated entries (plus 4 real ones)")
    parser.add_argument("--names", type=int, default=100_000, help="distinct names to match")
    parser.add_argument("--rounds", type=int, default=5, help="runs per figure; the best is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    figures = {"python": sys.version.split()[0], **bench_parse(args.entries, args.rounds)}
    figures.update(bench_names(args.names, args.rounds))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
