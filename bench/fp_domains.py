"""False positives of the lookalike matcher on 50,000 real popular domains, with 50 protected brands.

    .venv/bin/python bench/fp_domains.py [--list] [--brands FILE.toml] [--data DIR]

Every domain in ../shared/data/domains/tranco_ranks_50001_100000.txt (Tranco ranks 50,001-100,000) is an
established, popular site, so what the matcher flags there is, almost all of it, a false positive. The 50
brands are tests/engine/domains/brands_50.toml. The data directory is $SMISHGUARD_SHARED_DATA if set, else
the "shared/data" folder beside the repository. The ceiling is 0.1% (50 domains); the exit status is 1 above it.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from shared import read_domains, shared_data
from smishguard.engine.domains import InvalidDomain, LookalikeMatcher, load_brand_config

REPO = Path(__file__).resolve().parent.parent
TRANCO = "domains/tranco_ranks_50001_100000.txt"
CEILING = 0.001


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brands", default=str(REPO / "tests/engine/domains/brands_50.toml"))
    ap.add_argument("--data", default=None, help="the shared data directory")
    ap.add_argument("--list", action="store_true", help="print every flagged domain")
    args = ap.parse_args()

    data = Path(args.data) if args.data else shared_data()
    domains = read_domains(data / TRANCO)
    brands, keywords = load_brand_config(args.brands)
    matcher = LookalikeMatcher(brands, keywords)
    flagged, invalid, official = [], 0, 0
    for result in matcher.check_many(domains):
        if isinstance(result, InvalidDomain):
            invalid += 1
        elif result.verdict == "lookalike":
            flagged.append(result)
        elif result.verdict == "official":
            official += 1
    rate = len(flagged) / len(domains)
    print(f"brands: {len(brands)} ({args.brands})")
    print(f"domains: {len(domains)} ({data / TRANCO})")
    print(f"flagged: {len(flagged)} = {rate:.3%} (ceiling {CEILING:.1%} = {int(len(domains) * CEILING)})")
    print(f"official: {official}; invalid: {invalid}")
    by_technique = collections.Counter(t for r in flagged for t in r.techniques)
    print("techniques among flagged:", ", ".join(f"{t} {c}" for t, c in by_technique.most_common()))
    if args.list:
        for r in flagged:
            print(f"  {r.domain}\t{r.brand}\t{','.join(r.techniques)}\t{r.score}")
    return 0 if rate <= CEILING else 1


if __name__ == "__main__":
    sys.exit(main())
