"""Domains per second for the whole ``smishguard domains check --file`` process on one core, output included.

    .venv/bin/python bench/bench_domains_cli.py [--repeat 5] [--data DIR]

What is timed: ``taskset -c 0 .venv/bin/smishguard domains check --file F --config BRANDS_100.toml`` as a
subprocess (start-up, matcher build for 100 brands, reading, checks, JSON encoding, writing), from fork to
exit, by wall clock and by the child's CPU time (resource.getrusage(RUSAGE_CHILDREN): user + system). Output
goes once to /dev/null and once to a file in /tmp (then checked: one JSON line per input line).

Domains: the 100,000 distinct names of bench/bench_domains.py (``make_domains``): the 50,000 Tranco domains of
../shared/data/domains/tranco_ranks_50001_100000.txt, then the same 50,000 names each moved to another common
suffix (dogecoin.com -> dogecoin.net), written to a file in /tmp in that order.

The matcher keeps a per-stem cache (one registrable name has many hosts in certificate logs). The moved half
repeats the stems of the first half, so with the command as shipped that cache answers the second half: the
figure is flattered. The headline is therefore the same process with the cache off: the console script's own
``main`` run through ``python -c`` after setting LookalikeMatcher's default ``cache_size`` to 0 (nothing else
differs: same imports, same parser, same code path). Both figures are printed.

Brands: the 100 of tests/engine/domains/brands_50.toml + brands_extra_50.toml, merged into one TOML file in
/tmp (the command takes one --config file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_domains import make_domains
from bench_scan_cli import REPO, check_output, measure, merged_brands_toml, run_once, shared_data

NO_CACHE = (
    "import sys\n"
    "from smishguard.engine.domains.matcher import LookalikeMatcher\n"
    "LookalikeMatcher.__init__.__kwdefaults__['cache_size'] = 0\n"
    "from smishguard.cli import main\n"
    "sys.argv[0] = 'smishguard'\n"
    "sys.exit(main())\n"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--smishguard", default=str(REPO / ".venv/bin/smishguard"), help="the console script")
    ap.add_argument("--python", default=str(REPO / ".venv/bin/python"))
    args = ap.parse_args(argv)

    names = make_domains(args.data or shared_data())
    tmp = Path(tempfile.mkdtemp(prefix="bench-domains-cli-"))
    try:
        brands_toml = tmp / "brands_100.toml"
        n_brands = merged_brands_toml(brands_toml)
        domains_file = tmp / "domains_100k.txt"
        domains_file.write_text("\n".join(names) + "\n", encoding="utf-8")
        n = len(names)
        taskset = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        tail = ["domains", "check", "--file", str(domains_file), "--config", str(brands_toml)]
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; {n_brands} brands; {n:,} distinct domains;"
            f" {args.repeat} runs each"
        )
        out_file = tmp / "out.jsonl"
        for label, cmd in (
            ("cache off (headline)", [*taskset, args.python, "-c", NO_CACHE, *tail]),
            ("as shipped (stem cache on)", [*taskset, args.smishguard, *tail]),
        ):
            run_once(cmd, str(out_file))  # warm-up; its output is checked
            counts = check_output(out_file, n)
            print(f"{label}: verdicts {counts}")
            measure("  stdout -> /dev/null", cmd, os.devnull, n, args.repeat)
            measure("  stdout -> file in /tmp", cmd, str(out_file), n, args.repeat)
        print(f"command: {' '.join([*taskset, 'smishguard', 'domains', 'check', '--file', 'F', '--config', 'B.toml'])}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
