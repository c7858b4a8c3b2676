"""Recall and false positives of dnstwist and openSquat on our lookalike-domain data, beside our own matcher.

    .venv/bin/python bench/compare_domains.py [--list] [--json FILE] [--tools-venv DIR] [--data DIR]
                                              [--only dnstwist,opensquat,smishguard] [--opensquat-full] [--no-cache]

A benchmark (not a test; CI never runs it). Each tool is scored the way bench/fp_domains.py scores ours:

- recall: the 174 domains of the 2022 Oktapus wave (shared data ``domains/oktapus_2022.txt``), with the 53
  brands that wave imitated and their official domains (``domains/oktapus_brands.toml``);
- false positives: the 50,000 popular domains of Tranco ranks 50,001-100,000
  (``domains/tranco_ranks_50001_100000.txt``), with our 50-brand list (tests/engine/domains/brands_50.toml).

The data directory is $SMISHGUARD_SHARED_DATA if set, else the "shared/data" folder beside the repository
(as in bench/fp_domains.py). Lines are read the same way for every tool (blank lines and "#" comments
dropped). A domain that is, or is under, an official domain of the brand list (our matcher's "official"
verdict: the allow-list every team has; also "partner", for a brand file that lists partners) is never
counted as flagged for any tool; how many of those a tool flagged besides is printed apart ("+official").

The tools are not dependencies of smishguard. The first run makes a throw-away virtual environment,
var/compare-venv (gitignored; or --tools-venv DIR), and installs the pinned versions from the package index:

    python3 -m venv var/compare-venv
    var/compare-venv/bin/pip install dnstwist==20250130 opensquat==2.3.1 idna==3.21

The work that needs a tool runs in that environment (this file, started there with --worker); nothing reaches
the network (no DNS, no WHOIS, no feed download, no update check). Its answers are kept in TOOLS_VENV/results,
keyed by the job (data, brands, keywords), the pins and this file: the next run reads them and says when they
were measured (--no-cache measures again), so re-running for our own matcher's point takes a second. A run
that measures the tools takes about 6 CPU-minutes (openSquat's scan of 50,000 domains x 72 keywords about
two thirds of it, dnstwist's permutations of 340 official domains the rest): 3-4 minutes on the idle 2-core
machine, twice that beside a test run.

dnstwist 20250130 (Apache License 2.0, github.com/elceef/dnstwist). For each official domain of each brand
``dnstwist.Fuzzer(domain).generate()`` makes its permutations with every default fuzzer (addition,
bitsquatting, cyrillic, homoglyph, hyphenation, insertion, omission, plural, repetition, replacement,
subdomain, transposition, vowel-swap, and "various"); dnstwist's registered/DNS checks are not run. It is
installed without its [full] extras (GeoIP, page hashing, DNS: network features), except idna, which it uses
for punycode (openSquat needs it too); without the optional "tld" package dnstwist cuts the suffix off with
its own rule (the last label, or two when the second-last is com/co/net/org...), which is right for every
official domain of both brand files (tld would read workers.dev or pages.dev as a whole suffix). A
candidate is flagged when its registrable domain (bundled public suffix list) is among the permutations.
Two settings of fuzzers, each read under two TLD choices, make four points:

- "default fuzzers" and "+ dictionary": the second adds dnstwist's dictionary fuzzer with our keywords
  (smishguard.engine.domains.DEFAULT_KEYWORDS plus the brand file's own, as a team would write for the
  Oktapus forms: brand-sso, sso-brand, brandsso...), i.e. ``Fuzzer(domain, dictionary=KEYWORDS)``.
- "own TLD": as dnstwist runs without --tld: the permutations keep the official domain's own suffix
  (twilio.com gives twilio-sso.com, not twilio-sso.net). "any TLD": as if dnstwist were run with --tld and a
  dictionary of every TLD, for every official domain; the permutations of a domain's label do not depend on
  its suffix (except the per-TLD IDN homoglyph tables: the official domain's own is used), so instead of
  a run per brand domain and TLD, a candidate is flagged when its registrable label (twilio-sso in
  twilio-sso.net) is the label of a permutation, or the label of an official domain (dnstwist's tld-swap).
  Permutations with a dot in them (the subdomain fuzzer) never match a registrable domain.

openSquat 2.3.1 (GPL-3.0-only, github.com/atenreiro/opensquat). Its CLI, ``opensquat -k KEYWORDS -d DOMAINS
-c LEVEL``, reads a domains file instead of downloading newly registered domains; the same path is called
here, ``opensquat.app.Domain().main(keywords_file, LEVEL, domains_file, dns=False)`` (what its cli.main
calls, without the VirusTotal/port/phishing options and the update check that fetches its web site). Its rule,
per keyword and domain: flagged when the Levenshtein distance between the keyword and the domain's first label
is at most LEVEL (0 "very high" ... 4 "very low" confidence; the CLI's default is 1), or when the keyword is a
substring of the whole domain. Keywords, one a line, as a team would write them: each brand's name in lower
case without spaces or punctuation ("bestbuy", "att") and the brand's configured tokens as written
("t-mobile", "tmo", "cb"). A second point per level drops the keywords of 2-3 letters (att, cb, tmo, vzw, wf),
which a substring rule cannot carry. Flagged(level) is a subset of flagged(4), and each domain is judged on
its own, so at levels 0-3 openSquat's detector (SquattingDetector(level).check, which Domain.main runs per
keyword) is given, per keyword, the domains that level 4 flagged for it: the same result as a full scan, and
the time printed for them is the level-4 scan's plus that re-check (--opensquat-full scans every level over
all the domains instead, about five times as long).

smishguard: LookalikeMatcher of this checkout with each brand file (its keywords plus DEFAULT_KEYWORDS);
flagged = verdict "lookalike" (bench/fp_domains.py gives the same false-positive count).

Times are wall-clock seconds on this machine; dnstwist's fuzzing runs in --processes worker processes (2 by
default), openSquat's in its own process pool (one process per core), ours in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared import read_domains, shared_data

REPO = Path(__file__).resolve().parent.parent
OKTAPUS = "domains/oktapus_2022.txt"
OKTAPUS_BRANDS = "domains/oktapus_brands.toml"
TRANCO = "domains/tranco_ranks_50001_100000.txt"
BRANDS_50 = REPO / "tests/engine/domains/brands_50.toml"
DEFAULT_VENV = REPO / "var/compare-venv"
# idna: dnstwist's punycode (IDNA 2008) when installed, else Python's IDNA 2003 codec, which keeps other
# homoglyph permutations; pinned because it changes dnstwist's output.
PINS = {"dnstwist": "20250130", "opensquat": "2.3.1", "idna": "3.21"}
LICENCES = {"dnstwist": "Apache-2.0", "opensquat": "GPL-3.0-only"}
OPENSQUAT_LEVELS = (0, 1, 2, 3, 4)
OPENSQUAT_CLI_DEFAULT = 1
# Run with the tools venv's python: the installed version of each package named on the command line.
_PROBE = """import importlib.metadata as m, json, sys
v = {}
for n in sys.argv[1:]:
    try:
        v[n] = m.version(n)
    except m.PackageNotFoundError:
        v[n] = None
print(json.dumps(v))
"""
SHORT = 3  # keywords of this many characters or fewer are dropped in openSquat's second point


# ---------------------------------------------------------------------------------------------- the tools venv


def ensure_tools_venv(venv: Path) -> Path:
    """The tools venv's python, making the venv and installing the pinned tools when they are not there."""
    py = venv / "bin" / "python"
    if not py.exists():
        print(f"making {venv} (the tools' throw-away venv) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    probe = subprocess.run([py, "-c", _PROBE, *sorted(PINS)], check=True, capture_output=True, text=True)  # noqa: S603
    have = json.loads(probe.stdout)
    if have != PINS:
        print(f"installing {', '.join(f'{n}=={v}' for n, v in PINS.items())} into {venv} ...", file=sys.stderr)
        done = subprocess.run(  # noqa: S603
            [py, "-m", "pip", "install", "--quiet", *(f"{n}=={v}" for n, v in PINS.items())],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            sys.exit(f"pip install into {venv} failed:\n{done.stderr[-3000:]}")
    return py


def run_worker(py: Path, tool: str, job: dict, cache: Path | None) -> dict:
    """The tool's worker on one job, in the tools venv; its answer is kept in ``cache`` (a folder), keyed by the
    job, the pins and this file, and read from there next time."""
    key = hashlib.sha256(json.dumps([tool, job, PINS], sort_keys=True).encode() + Path(__file__).read_bytes())
    cached = cache / f"{tool}-{key.hexdigest()[:24]}.json" if cache else None
    if cached and cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="compare-domains-") as tmp:
        job_path, out_path = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        subprocess.run([py, __file__, "--worker", tool, str(job_path), str(out_path)], check=True)  # noqa: S603
        out = json.loads(out_path.read_text(encoding="utf-8"))
    out["measured_at"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(out), encoding="utf-8")
    return out


# ------------------------------------------------------------------------- worker side (runs in the tools venv)


def _fuzz(task: tuple[str, list[str]]) -> tuple[str, str, list[tuple[str, str]]]:
    """dnstwist's permutations of one domain: all default fuzzers, or only the dictionary one when given words."""
    import dnstwist

    domain, dictionary = task
    f = dnstwist.Fuzzer(domain, dictionary=dictionary)
    f.generate(fuzzers=["dictionary"] if dictionary else [])
    return domain, f.tld, [(p["domain"], p["fuzzer"]) for p in f.domains]


def worker_dnstwist(job: dict) -> dict:
    """Permutations of every official domain, then which candidates they catch, per setting."""
    import multiprocessing

    import dnstwist

    officials, keywords, candidates = job["officials"], job["keywords"], job["candidates"]
    out: dict = {"version": dnstwist.__version__, "settings": {}}
    perms: dict[str, dict[str, tuple[str, str]]] = {}  # "plain" / "dictionary" -> permutation -> (official, fuzzer)
    labels: dict[str, dict[str, tuple[str, str]]] = {}  # the same, by the permutation's own label
    seconds: dict[str, float] = {}

    def tasks(dictionary: list[str]) -> list[tuple[str, list[str]]]:  # longest first: the slowest to fuzz
        return [(d, dictionary) for d in sorted(officials, key=len, reverse=True)]

    with multiprocessing.Pool(job["processes"]) as pool:
        for name, dictionary in (("plain", []), ("dictionary", keywords)):
            t0 = time.perf_counter()
            by_domain: dict[str, tuple[str, str]] = {}
            by_label: dict[str, tuple[str, str]] = {}
            for official, tld, found in pool.imap(_fuzz, tasks(dictionary), chunksize=1):
                sub, label, _tld = dnstwist.domain_tld(official)
                if not sub:  # the official domain itself, under any TLD: dnstwist's tld-swap
                    by_label.setdefault(label, (official, "tld-swap"))
                for perm, fuzzer in sorted(found):
                    by_domain.setdefault(perm, (official, fuzzer))
                    if perm.endswith("." + tld):
                        head = perm[: -len(tld) - 1]
                        if "." not in head:
                            by_label.setdefault(head, (official, fuzzer))
            perms[name], labels[name] = by_domain, by_label
            seconds[name] = time.perf_counter() - t0
    for name in ("plain", "dictionary"):
        for tld_mode in ("own", "any"):
            t0 = time.perf_counter()
            hits = {}
            for i, (registrable, label) in enumerate(candidates):
                hit = None
                for part in ("plain", "dictionary") if name == "dictionary" else ("plain",):
                    hit = perms[part].get(registrable) if tld_mode == "own" else labels[part].get(label)
                    if hit:
                        break
                if hit:
                    hits[i] = hit
            fuzz_seconds = seconds["plain"] + (seconds["dictionary"] if name == "dictionary" else 0.0)
            out["settings"][f"{name}/{tld_mode}"] = {
                "hits": hits,
                "seconds": fuzz_seconds + time.perf_counter() - t0,
                "permutations": len(perms["plain"]) + (len(perms["dictionary"]) if name == "dictionary" else 0),
            }
    return out


def _opensquat_run(keywords_file: str, level: int, domains: list[str], tmp: str) -> tuple[dict, float]:
    from opensquat import app

    domains_file = Path(tmp) / f"domains-{level}.txt"
    domains_file.write_text("".join(d + "\n" for d in domains), encoding="utf-8")
    scanner = app.Domain()
    t0 = time.perf_counter()
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        scanner.main(keywords_file, level, str(domains_file), False)  # dns=False: no Quad9 look-ups
    return {k: sorted(set(v)) for k, v in scanner.keyword_domains.items()}, time.perf_counter() - t0


def worker_opensquat(job: dict) -> dict:
    """openSquat's own scan (app.Domain().main, as its CLI) at each confidence level: keyword -> domains.

    The top level scans every domain; a lower level flags a subset of it, and openSquat judges each (keyword,
    domain) pair on its own, so its detector (SquattingDetector(level).check, what Domain.main runs per
    keyword) is given, per keyword, only the domains the top level flagged for it. job["full"]: a full
    Domain.main scan per level instead.
    """
    import opensquat
    from opensquat.squatting_detector import SquattingDetector

    domains, keywords = job["candidates"], job["keywords"]
    out: dict = {"version": opensquat.__VERSION__, "levels": {}}
    with tempfile.TemporaryDirectory(prefix="opensquat-") as tmp:
        keywords_file = Path(tmp) / "keywords.txt"
        keywords_file.write_text("".join(k + "\n" for k in keywords), encoding="utf-8")
        top = max(OPENSQUAT_LEVELS)
        found, seconds = _opensquat_run(str(keywords_file), top, domains, tmp)
        out["levels"][str(top)] = {"by_keyword": found, "seconds": seconds, "full_scan": True}
        for level in OPENSQUAT_LEVELS[:-1]:
            if job["full"]:
                found_l, seconds_l = _opensquat_run(str(keywords_file), level, domains, tmp)
            else:
                detector = SquattingDetector(confidence_level=level)
                t0 = time.perf_counter()
                found_l = {}
                for kw, flagged in found.items():
                    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                        again = detector.check(kw, flagged)
                    if again:
                        found_l[kw] = sorted(set(again))
                seconds_l = seconds + time.perf_counter() - t0
            out["levels"][str(level)] = {"by_keyword": found_l, "seconds": seconds_l, "full_scan": job["full"]}
    return out


def worker_main(tool: str, job_path: str, out_path: str) -> int:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    result = {"dnstwist": worker_dnstwist, "opensquat": worker_opensquat}[tool](job)
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


# ------------------------------------------------------------------------------------ main side (project venv)


class DataSet:
    """One list of candidate domains with one brand file, read and judged by our matcher once."""

    def __init__(self, name: str, domains_path: Path, brands_path: Path) -> None:
        from smishguard.engine.domains import InvalidDomain, LookalikeMatcher, load_brand_config

        self.name, self.domains_path, self.brands_path = name, domains_path, brands_path
        self.domains = read_domains(domains_path)
        self.brands, extra = load_brand_config(brands_path)
        t0 = time.perf_counter()
        self.matcher = LookalikeMatcher(self.brands, extra)
        results = list(self.matcher.check_many(self.domains))
        self.our_seconds = time.perf_counter() - t0
        self.keywords = list(self.matcher.keywords)
        self.official: set[int] = set()
        self.ours: dict[int, str] = {}
        self.candidates: list[tuple[str, str]] = []  # (registrable, its own label), ASCII as in the file
        for i, (raw, r) in enumerate(zip(self.domains, results, strict=True)):
            labels = raw.lower().rstrip(".").split(".")
            n = 2 if isinstance(r, InvalidDomain) else r.registrable.count(".") + 1
            self.candidates.append((".".join(labels[-n:]), labels[-n]))
            if isinstance(r, InvalidDomain):
                continue
            if r.verdict in {"official", "partner"}:  # the brand file's allow-lists
                self.official.add(i)
            elif r.verdict == "lookalike":
                self.ours[i] = f"{r.brand} {','.join(r.techniques)} {r.score}"

    def officials(self) -> list[str]:
        return list(dict.fromkeys(d for b in self.brands for d in b.domains))

    def opensquat_keywords(self) -> list[str]:
        import unicodedata

        words = []
        for b in self.brands:
            name = "".join(ch for ch in unicodedata.normalize("NFKC", b.name).lower() if ch.isalnum())
            words += [name, *b.tokens]
        return list(dict.fromkeys(w for w in words if w))


class Point:
    def __init__(self, tool: str, setting: str) -> None:
        self.tool, self.setting = tool, setting
        self.flagged: dict[str, dict[int, str]] = {}  # data set -> index -> why
        self.official_flagged: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def add(self, ds: DataSet, hits: dict[int, str], seconds: float) -> None:
        self.flagged[ds.name] = {i: why for i, why in hits.items() if i not in ds.official}
        self.official_flagged[ds.name] = sum(1 for i in hits if i in ds.official)
        self.seconds[ds.name] = seconds

    def to_dict(self, recall: DataSet, fp: DataSet) -> dict:
        r, f = len(self.flagged[recall.name]), len(self.flagged[fp.name])
        return {
            "tool": self.tool,
            "setting": self.setting,
            "recall": {"caught": r, "of": len(recall.domains), "rate": r / len(recall.domains),
                       "missed": [recall.domains[i] for i in range(len(recall.domains))
                                  if i not in self.flagged[recall.name] and i not in recall.official]},
            "false_positives": {"flagged": f, "of": len(fp.domains), "rate": f / len(fp.domains),
                                "official_also_flagged": self.official_flagged[fp.name]},
            "seconds": {"recall": round(self.seconds[recall.name], 3),
                        "false_positives": round(self.seconds[fp.name], 3)},
        }  # fmt: skip


def dnstwist_points(
    py: Path, sets: list[DataSet], processes: int, cache: Path | None, measured: set[str]
) -> tuple[list[Point], str]:
    names = {
        "plain/own": "default fuzzers, own TLD",
        "plain/any": "default fuzzers, any TLD",
        "dictionary/own": "+ dictionary of our keywords, own TLD",
        "dictionary/any": "+ dictionary of our keywords, any TLD",
    }
    points = {k: Point("dnstwist", v) for k, v in names.items()}
    version = ""
    for ds in sets:
        job = {"officials": ds.officials(), "keywords": ds.keywords, "candidates": ds.candidates,
               "processes": processes}  # fmt: skip
        out = run_worker(py, "dnstwist", job, cache)
        measured.add(out["measured_at"])
        version = out["version"]
        for key, s in out["settings"].items():
            hits = {int(i): f"{fuzzer} of {official}" for i, (official, fuzzer) in s["hits"].items()}
            points[key].add(ds, hits, s["seconds"])
    return list(points.values()), version


def opensquat_points(
    py: Path, sets: list[DataSet], full: bool, cache: Path | None, measured: set[str]
) -> tuple[list[Point], str]:
    points: dict[tuple[int, bool], Point] = {}
    for level in OPENSQUAT_LEVELS:
        default = " (CLI default)" if level == OPENSQUAT_CLI_DEFAULT else ""
        points[level, False] = Point("openSquat", f"-c {level}{default}, all keywords")
        points[level, True] = Point("openSquat", f"-c {level}{default}, keywords of 4+ letters")
    version = ""
    for ds in sets:
        keywords = ds.opensquat_keywords()
        job = {"candidates": ds.domains, "keywords": keywords, "full": full}
        out = run_worker(py, "opensquat", job, cache)
        measured.add(out["measured_at"])
        version = out["version"]
        index: dict[str, list[int]] = {}
        for i, d in enumerate(ds.domains):
            index.setdefault(d.lower(), []).append(i)
        for level in OPENSQUAT_LEVELS:
            run = out["levels"][str(level)]
            for long_only in (False, True):
                hits: dict[int, str] = {}
                for kw, found in run["by_keyword"].items():
                    if long_only and len(kw) <= SHORT:
                        continue
                    for d in found:
                        for i in index.get(d, ()):
                            hits[i] = f"{hits[i]},{kw}" if i in hits else kw
                points[level, long_only].add(ds, hits, run["seconds"])
    return list(points.values()), version


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        return worker_main(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="the shared data directory")
    ap.add_argument("--brands", default=str(BRANDS_50), help="brand file for the false positives")
    ap.add_argument("--tools-venv", default=str(DEFAULT_VENV), help="venv holding the tools (made if missing)")
    ap.add_argument("--only", default="smishguard,dnstwist,opensquat", help="comma-separated tools to run")
    ap.add_argument("--processes", type=int, default=2, help="dnstwist fuzzing processes")
    ap.add_argument("--opensquat-full", action="store_true", help="run every openSquat level over all domains")
    ap.add_argument("--no-cache", action="store_true", help="measure the tools again, not from TOOLS_VENV/results")
    ap.add_argument("--list", action="store_true", help="print what each point caught, missed and flagged")
    ap.add_argument("--json", default=None, help="write the points to this file")
    args = ap.parse_args()
    only = {t.strip().lower() for t in args.only.split(",") if t.strip()}
    unknown = only - {"smishguard", "dnstwist", "opensquat"}
    if unknown:
        ap.error(f"unknown tool(s) in --only: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    data = Path(args.data) if args.data else shared_data()
    for rel in (OKTAPUS, OKTAPUS_BRANDS, TRANCO):
        if not (data / rel).is_file():
            ap.error(f"{data / rel} not found (set --data or $SMISHGUARD_SHARED_DATA)")
    recall = DataSet("oktapus", data / OKTAPUS, data / OKTAPUS_BRANDS)
    fp = DataSet("tranco", data / TRANCO, Path(args.brands))
    sets = [recall, fp]

    points: list[Point] = []
    versions: dict[str, str] = {}
    measured: set[str] = set()  # when the tools' answers were measured (older ones come from the cache)
    if "smishguard" in only:
        from importlib.metadata import version

        ours = Point("smishguard", "LookalikeMatcher, verdict lookalike")
        for ds in sets:
            ours.add(ds, ds.ours, ds.our_seconds)
        points.append(ours)
        versions["smishguard"] = version("smishguard")
    if only & {"dnstwist", "opensquat"}:
        py = ensure_tools_venv(Path(args.tools_venv))
        cache = None if args.no_cache else Path(args.tools_venv) / "results"
        if "dnstwist" in only:
            found, versions["dnstwist"] = dnstwist_points(py, sets, args.processes, cache, measured)
            points += found
        if "opensquat" in only:
            found, versions["opensquat"] = opensquat_points(py, sets, args.opensquat_full, cache, measured)
            points += found

    print(f"recall: {len(recall.domains)} domains ({recall.domains_path}), {len(recall.brands)} brands "
          f"({recall.brands_path}); {len(recall.official)} of the domains are official or partners")  # fmt: skip
    print(f"false positives: {len(fp.domains):,} domains ({fp.domains_path}), {len(fp.brands)} brands "
          f"({fp.brands_path}); {len(fp.official)} of the domains are official or partners (not counted)")  # fmt: skip
    print("versions: " + ", ".join(f"{k} {v}" + (f" ({LICENCES[k]})" if k in LICENCES else "")
                                   for k, v in versions.items()))  # fmt: skip
    head = f"{'tool':<11} {'setting':<40} {'recall':>14} {'flagged on Tranco':>20} {'+official':>9} {'seconds':>13}"
    print(head)
    print("-" * len(head))
    for p in points:
        d = p.to_dict(recall, fp)
        r, f = d["recall"], d["false_positives"]
        print(
            f"{p.tool:<11} {p.setting:<40} {r['caught']:>4}/{r['of']} {r['rate']:>6.1%} "
            f"{f['flagged']:>6,}/{f['of']:,} {f['rate']:>7.3%} {f['official_also_flagged']:>9} "
            f"{p.seconds[recall.name]:>5.1f} /{p.seconds[fp.name]:>6.1f}"
        )
    print(f"(recall / false-positive seconds per point; whole run {time.perf_counter() - started:.0f} s)")
    if measured:
        print(
            f"tools measured at {', '.join(sorted(measured))} (kept in TOOLS_VENV/results; --no-cache to measure again)"
        )
    if args.list:
        for p in points:
            print(f"\n== {p.tool}, {p.setting}")
            caught = p.flagged[recall.name]
            for i, d in enumerate(recall.domains):
                if i not in recall.official:
                    print(f"  {'caught' if i in caught else 'MISSED'}\t{d}\t{caught.get(i, '')}")
            for i, why in sorted(p.flagged[fp.name].items()):
                print(f"  FLAGGED\t{fp.domains[i]}\t{why}")
    if args.json:
        doc = {
            "recall_data": {"domains": str(recall.domains_path), "brands": str(recall.brands_path)},
            "false_positive_data": {"domains": str(fp.domains_path), "brands": str(fp.brands_path)},
            "versions": versions,
            "tools_measured_at": sorted(measured),
            "points": [p.to_dict(recall, fp) for p in points],
        }
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
