"""Messages per second for SMS verdicts on one core, over real-looking messages.

    .venv/bin/python bench/bench_sms.py [--data ../shared/data] [--repeat 3] [--batch 1024]

Messages: every text of the UCI, Mishra & Soni and SmishTank sets (about 12,300, a sixth of them with links),
in file order, repeated. Brands: 10 protected brands (LookalikeMatcher). Measured on one core (the process is
pinned with sched_setaffinity where the platform has it), after a warm-up pass over 1,000 texts:
  - engine: verdict_many() over all texts, verdicts consumed but not serialised;
  - engine+json: the same plus json.dumps(verdict.to_dict()) per message, as `scan --file` prints;
  - links only / model only: the two halves, to see where time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from smishguard.engine.domains import Brand, LookalikeMatcher
from smishguard.engine.sms import extract_links, link_features, load_default_model, verdict_many
from smishguard.engine.sms.dataset import read_mishra, read_smishtank, read_uci, resolve_sms_dir

BRANDS = [
    Brand("Twilio", ("twilio.com",)),
    Brand("Okta", ("okta.com",)),
    Brand("Cloudflare", ("cloudflare.com",)),
    Brand("Acme Bank", ("acmebank.com",), ("acmebank",)),
    Brand("DoorDash", ("doordash.com",)),
    Brand("Mailchimp", ("mailchimp.com",)),
    Brand("Signal", ("signal.org",)),
    Brand("T-Mobile", ("t-mobile.com", "tmobile.com"), ("tmobile", "t-mobile")),
    Brand("Coinbase", ("coinbase.com",)),
    Brand("Microsoft", ("microsoft.com", "office.com", "live.com")),
]


def load_texts(data: Path) -> list[str]:
    sms = resolve_sms_dir(data)
    return [t for t, _ in read_uci(sms)] + [t for t, _ in read_mishra(sms)] + read_smishtank(sms)


def rate(n: int, wall: float, cpu: float) -> str:
    return f"{n / cpu:>9,.0f} msg/s per CPU-second ({n / wall:,.0f} msg/s wall clock; {n:,} in {wall:.2f} s)"


class Timer:
    """Wall-clock and process CPU time: on a shared machine the CPU time is what one core can do."""

    def __enter__(self) -> Timer:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def main(argv: list[str] | None = None) -> int:
    default_data = Path(
        os.environ.get("SMISHGUARD_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
    )
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    texts = load_texts(args.data) * args.repeat
    matcher = LookalikeMatcher(BRANDS)
    model = load_default_model()
    for _ in verdict_many(texts[:1000], matcher=matcher, model=model):
        pass

    counts: dict[str, int] = {}
    with Timer() as engine:
        for v in verdict_many(texts, matcher=matcher, model=model, batch_size=args.batch):
            counts[v.verdict] = counts.get(v.verdict, 0) + 1

    out = 0
    with Timer() as with_json:
        for v in verdict_many(texts, matcher=matcher, model=model, batch_size=args.batch):
            out += len(json.dumps(v.to_dict(), ensure_ascii=False))

    with Timer() as links:
        feats = [link_features(extract_links(t)) for t in texts]

    with Timer() as model_only:
        for i in range(0, len(texts), args.batch):
            model.probabilities(texts[i : i + args.batch], feats[i : i + args.batch])

    with_links = sum(1 for f in feats if f.has_link)
    print(f"python {sys.version.split()[0]}, one core, {len(texts):,} messages ({with_links:,} with links)")
    print(f"verdicts: {counts}")
    n = len(texts)
    print(f"engine (verdict_many)        {rate(n, engine.wall, engine.cpu)}")
    print(f"engine + json.dumps per line {rate(n, with_json.wall, with_json.cpu)}")
    print(f"links + link features only   {rate(n, links.wall, links.cpu)}")
    print(f"text model only (batched)    {rate(n, model_only.wall, model_only.cpu)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
