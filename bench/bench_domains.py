"""Domains per second for the lookalike matcher's ``check_many``, 100 brands, 100,000 distinct real domains.

    .venv/bin/python bench/bench_domains.py [--repeat 5] [--data DIR]

The engine alone (no output): the figure for ``smishguard domains check`` as a whole process is measured
by whoever owns that command. Pinned to one CPU (sched_setaffinity) and single-threaded.

Domains: the 50,000 of ../shared/data/domains/tranco_ranks_50001_100000.txt (Tranco ranks 50,001-100,000),
plus 50,000 made from them by an honest, documented transformation: each registrable name moved to another
common suffix (the first of .net .org .io .co .info .de .co.uk .app .xyz .online .com .eu .biz, then a
few more country codes, that gives a name not yet in the set; e.g. dogecoin.com -> dogecoin.net). All
100,000 are distinct, so no per-name cache helps; the registrable's own label does repeat, so the matcher
is built with its per-label cache OFF for the headline figure (``cache_size=0``), and the figure with the
default cache is printed beside it for information.

Brands: tests/engine/domains/brands_50.toml + brands_extra_50.toml (100 brands).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from smishguard.engine.domains import LookalikeMatcher, load_brand_config, normalise_host, registrable_domain

REPO = Path(__file__).resolve().parent.parent
TRANCO = "domains/tranco_ranks_50001_100000.txt"
OTHER_SUFFIXES = (
    "net", "org", "io", "co", "info", "de", "co.uk", "app", "xyz", "online", "com", "eu", "biz",
    "fr", "nl", "us", "ca", "com.au", "in", "es", "it", "se", "ch", "pl", "be", "at", "dk", "shop", "site",
    "ro", "cz", "hu", "pt", "gr", "fi", "no", "ie",
)  # fmt: skip


def shared_data() -> Path:
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def make_domains(data: Path) -> list[str]:
    with (data / TRANCO).open(encoding="utf-8") as f:
        real = [s for line in f if (s := line.strip()) and not s.startswith("#")]
    seen = {normalise_host(d) for d in real}
    moved = []
    for d in real:
        reg = registrable_domain(d)
        stem = reg.split(".", 1)[0]
        for suffix in OTHER_SUFFIXES:
            candidate = f"{stem}.{suffix}"
            if candidate not in seen:
                seen.add(candidate)
                moved.append(candidate)
                break
    names = real + moved
    assert len({normalise_host(n) for n in names}) == len(names) == 2 * len(real)
    return names


def run(matcher: LookalikeMatcher, names: list[str]) -> float:
    t0 = time.perf_counter()
    for _ in matcher.check_many(names):
        pass
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    names = make_domains(Path(args.data) if args.data else shared_data())
    brands, keywords = [], []
    for f in ("brands_50.toml", "brands_extra_50.toml"):
        b, k = load_brand_config(REPO / "tests/engine/domains" / f)
        brands += b
        keywords += k
    t0 = time.perf_counter()
    matcher = LookalikeMatcher(brands, keywords, cache_size=0)
    build = time.perf_counter() - t0
    cached = LookalikeMatcher(brands, keywords)

    print(f"{len(brands)} brands, {len(names)} distinct domains, one CPU; matcher built in {build:.2f} s")
    for label, m in (("cache off (headline)", matcher), ("default cache", cached)):
        times = []
        for _ in range(args.repeat):
            if m is cached:
                m._cache.clear()
            times.append(run(m, names))
        best, median = min(times), statistics.median(times)
        print(
            f"{label:22s} best {len(names) / best:>9,.0f} domains/s   median {len(names) / median:>9,.0f}"
            f" domains/s   ({args.repeat} runs, best {best:.3f} s)"
        )
    flagged = sum(1 for r in matcher.check_many(names) if getattr(r, "verdict", "") == "lookalike")
    print(f"flagged as lookalikes: {flagged}")


if __name__ == "__main__":
    main()
