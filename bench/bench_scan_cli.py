"""Messages per second for the whole ``smishguard scan --file`` process on one core, output included.

    .venv/bin/python bench/bench_scan_cli.py [--repeat 5] [--copies 8] [--data DIR]

What is timed: ``taskset -c 0 .venv/bin/smishguard scan --file F --config BRANDS.toml`` as a subprocess
(start-up, model load, matcher build, reading, verdicts, JSON encoding, writing), from fork to exit, by wall
clock and by the child's CPU time (resource.getrusage(RUSAGE_CHILDREN): user + system). Output goes once to
/dev/null and once to a file in /tmp (the file is then checked: one JSON line per input line).

Messages: every text of the UCI, Mishra & Soni and SmishTank sets (../shared/data/sms, read from there), in
file order, newlines inside a text turned into spaces (the input is a message per line). That is about
12,300 texts; to reach about 100,000 lines the set is written ``--copies`` times, copy k (k >= 1) with every
digit d replaced by (d + k) mod 10: phone numbers, amounts, codes and the digits in link names change, the
words do not (the text model folds digits to 0, so its verdicts stay those of the original texts). Link
hosts without digits repeat from copy to copy, as a campaign's hosts repeat across the texts sent to many
people; the engine's per-run host cache helps with those exactly as it would in real use. The single pass
over the distinct texts (``--copies 1``) is printed as well, for the figure without repeats.

Brands: the 100 of tests/engine/domains/brands_50.toml + brands_extra_50.toml, merged into one TOML file in
/tmp (the command takes one --config file).

Bytecode: the child runs with compiled modules cached under /tmp (PYTHONPYCACHEPREFIX), as an installed
package runs; this machine sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile every module each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRAND_FILES = ("tests/engine/domains/brands_50.toml", "tests/engine/domains/brands_extra_50.toml")


def shared_data() -> Path:
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def merged_brands_toml(out: Path) -> int:
    """Write the 100 brands (and their keywords) as one TOML file; return the number of brands."""
    brands: list[dict] = []
    keywords: list[str] = []
    for name in BRAND_FILES:
        with (REPO / name).open("rb") as f:
            doc = tomllib.load(f)
        brands += doc.get("brands", [])
        keywords += doc.get("keywords", [])
    lines = [f"keywords = {json.dumps(keywords)}", ""]
    for b in brands:
        lines.append("[[brands]]")
        for key in ("name", "domains", "tokens"):
            if key in b:
                lines.append(f"{key} = {json.dumps(b[key], ensure_ascii=False)}")
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    return len(brands)


def load_texts(data: Path) -> list[str]:
    sys.path.insert(0, str(REPO / "src"))
    from smishguard.engine.sms.dataset import read_mishra, read_smishtank, read_uci, resolve_sms_dir

    sms = resolve_sms_dir(data)
    texts = [t for t, _ in read_uci(sms)] + [t for t, _ in read_mishra(sms)] + read_smishtank(sms)
    return [" ".join(t.splitlines()) for t in texts]


def shift_digits(k: int) -> dict[int, str]:
    return str.maketrans("0123456789", "".join(str((d + k) % 10) for d in range(10)))


def write_messages(texts: list[str], copies: int, path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for k in range(copies):
            table = shift_digits(k)
            for t in texts:
                f.write((t.translate(table) if k else t) + "\n")
                n += 1
    return n


def child_env() -> dict[str, str]:
    """The child's environment: bytecode cached (in /tmp), as an installed package has it.

    pip compiles a package's modules when it installs it; an editable install under PYTHONDONTWRITEBYTECODE
    (as on this machine) would recompile them on every run, which is not what a user's run pays."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "smishguard-bench-pycache")
    return env


def run_once(cmd: list[str], out_path: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process writing its stdout to out_path."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, env=child_env(), check=False)  # noqa: S603
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(label: str, cmd: list[str], out_path: str, n: int, repeat: int) -> None:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = run_once(cmd, out_path)
        walls.append(wall)
        cpus.append(cpu)
    print(
        f"{label:28s} wall: best {n / min(walls):>8,.0f}/s  median {n / statistics.median(walls):>8,.0f}/s"
        f"   CPU: best {n / min(cpus):>8,.0f}/s  median {n / statistics.median(cpus):>8,.0f}/s"
        f"   (best {min(walls):.2f} s wall, {min(cpus):.2f} s CPU)"
    )


def check_output(path: Path, n: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    lines = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            key = obj.get("verdict", "error")
            counts[key] = counts.get(key, 0) + 1
            lines += 1
    if lines != n:
        sys.exit(f"expected {n} output lines, got {lines}")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--smishguard", default=str(REPO / ".venv/bin/smishguard"), help="the console script")
    args = ap.parse_args(argv)

    texts = load_texts(args.data or shared_data())
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-cli-"))
    try:
        brands_toml = tmp / "brands_100.toml"
        n_brands = merged_brands_toml(brands_toml)
        taskset = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; {n_brands} brands; {args.repeat} runs each"
        )
        for copies in (args.copies, 1):
            msgs = tmp / f"messages_x{copies}.txt"
            n = write_messages(texts, copies, msgs)
            cmd = [*taskset, args.smishguard, "scan", "--file", str(msgs), "--config", str(brands_toml)]
            out_file = tmp / "out.jsonl"
            run_once(cmd, str(out_file))  # warm the page cache; also the output checked below
            counts = check_output(out_file, n)
            print(f"{n:,} messages ({copies} cop{'y' if copies == 1 else 'ies'}); verdicts {counts}")
            measure("  stdout -> /dev/null", cmd, os.devnull, n, args.repeat)
            measure("  stdout -> file in /tmp", cmd, str(out_file), n, args.repeat)
        print(f"command: {' '.join([*taskset, 'smishguard', 'scan', '--file', 'F', '--config', 'BRANDS_100.toml'])}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
