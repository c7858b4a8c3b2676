"""``smishguard incident scope`` on 10 million access rows, SQLite and PostgreSQL, cold cache (not a test; not in CI).

    nice -n 10 .venv/bin/python bench/bench_incident_scope.py [--rows 10000000] [--only sqlite|postgres]

What it does, in a temporary folder of its own:
1. for each database: a fresh data folder, ``smishguard migrate``, then the gateway app back to migration 0007 (the
   release before the roll-up of admitted reads) (PostgreSQL: a throw-away server from ``scripts/services start
   DIR``, the database owner migrating, the restricted role querying, as in production);
2. fills the access record with ``--rows`` rows (default 10,000,000) over 30 days, appended in time order as the
   gateway's check writes them: 100 employees, of whom two (the "compromised" accounts the scope asks about) hold
   11% of the rows (1.1 million), 5,000 customer ids on each of 3 hosts, 97% admitted reads.  PostgreSQL: COPY;
   SQLite: executemany in transactions of 200,000 rows.  The two secondary indexes are dropped for the load and
   built again afterwards from the model's own definitions (the same statements as the migrations).  PostgreSQL
   then gets VACUUM ANALYZE, which autovacuum does for an append-only table in production (and which an
   index-only scan needs: the visibility map); then ``smishguard migrate`` again, as an upgrade does: gateway
   migration 0008_read_rollup fills the roll-up (``CustomerRead``: reads, first, last per employee, host and
   customer) from the access record, the same statement as the upgrade of an install (timed);
3. makes the cache cold: PostgreSQL is restarted (its shared buffers are gone); for both, every file of the
   database is flushed and dropped from the OS page cache with posix_fadvise(POSIX_FADV_DONTNEED) — the pages of
   these files only, so it needs no root and leaves the other processes' cache alone (whether it worked is
   printed: the kernel may keep pages that are mapped or dirty);
4. in a fresh process (cold): times ``scope()`` for the two accounts over the whole 30 days (>= 1 million rows),
   then the chart's ``timeline()``, then both again (warm), then a one-day scope, then a scope from day 10.5 to
   day 20.5 (both ends mid-day, cutting nearly every customer: the access record's reads of each); then the
   whole command,
   ``smishguard incident scope --user A --user B --since ... --out FILE``, as a new process after the cache is
   dropped again (wall time, Python's start-up and Django's set-up included); then, cold again, the mid-day
   scope and its chart;
5. prints the figures as a Markdown table and the query plans, and removes everything (``--keep`` keeps it).

Bounded: ``--timeout`` (default 1,200 s) for the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMISHGUARD = ROOT / ".venv" / "bin" / "smishguard"
PYTHON = ROOT / ".venv" / "bin" / "python"

START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
EMPLOYEES = 100
COMPROMISED = ("mallory.one@example.com", "mallory.two@example.com")
COMPROMISED_SHARE = 0.11  # of all rows: 1.1 million of 10 million
HOSTS = ("customers.example.com", "billing.example.com", "support.example.com")
CUSTOMERS = 5000
CHUNK = 200_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- in the child processes (Django set up) -------------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smishguard.settings")
    from smishguard.clitools import setup_django

    setup_django()


DECISIONS = (("allow", "signed_in"), ("deny", "forbidden"), ("step_up", "step_up"))


def _chunks(total: int, ids: list[int], bad: list[int], *, zone: str):
    """The rows in time order, CHUNK at a time, as columns of Python values: (at, employee_id, session_id, method,
    host, path, rule, decision, reason, customer, ip).  Drawn with numpy (vectorised: a few seconds for 10 million
    rows, where a row-at-a-time generator takes minutes on a busy machine), the same rows on every run.  ``zone``:
    what follows the time ("" for SQLite, which keeps UTC text; "+00" for PostgreSQL's COPY)."""
    import numpy as np  # scikit-learn's dependency: in the environment already

    rng = np.random.default_rng(14)
    others = np.array([i for i in ids if i not in bad])
    bad_ids = np.array(bad)
    customers = [str(c) for c in range(1, CUSTOMERS + 1)]
    paths = [f"/customers/{c}" for c in customers]
    start_us = int(START.timestamp() * 1_000_000)
    span_us = DAYS * 86400 * 1_000_000
    for lo in range(0, total, CHUNK):
        size = min(total, lo + CHUNK) - lo
        n = np.arange(lo, lo + size, dtype=np.int64)
        at_us = start_us + (n.astype(np.float64) * (span_us / total)).astype(np.int64)  # n * span overflows int64
        at = [t.replace("T", " ", 1) + zone for t in np.datetime_as_string(at_us.astype("datetime64[us]"), unit="us")]
        compromised = rng.random(size) < COMPROMISED_SHARE
        who = np.where(compromised, bad_ids[n & 1], others[rng.integers(0, len(others), size)]).tolist()
        host = [HOSTS[h] for h in rng.integers(0, len(HOSTS), size).tolist()]
        cust = rng.integers(0, CUSTOMERS, size).tolist()
        roll = rng.random(size)
        verdict = [DECISIONS[v] for v in np.where(roll < 0.97, 0, np.where(roll < 0.99, 1, 2)).tolist()]
        yield (
            at,
            who,
            [w * 10 for w in who],
            ["GET"] * size,
            host,
            [paths[c] for c in cust],
            [1] * size,
            [v[0] for v in verdict],
            [v[1] for v in verdict],
            [customers[c] for c in cust],
            ["10.1.2.3"] * size,
        )


def _sqlite_batch(raw, sql: str, batch: list[tuple]) -> None:
    """One transaction of many rows (Django's SQLite connection is in autocommit mode: BEGIN and COMMIT here)."""
    raw.execute("BEGIN")
    raw.executemany(sql, batch)
    raw.execute("COMMIT")


def phase_fill(total: int) -> None:
    _django()
    from django.db import connection

    from smishguard.accounts.models import Employee
    from smishguard.accounts.services import add_employee
    from smishguard.gateway.models import AccessRecord

    emails = [*COMPROMISED, *(f"person{i:03d}@example.com" for i in range(EMPLOYEES - len(COMPROMISED)))]
    for email in emails:
        add_employee(email=email, name=email.split("@")[0])
    ids = dict(Employee.objects.filter(email__in=emails).values_list("email", "pk"))
    bad = [ids[e] for e in COMPROMISED]
    meta = AccessRecord._meta
    table = meta.db_table
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    indexes = list(meta.indexes)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(AccessRecord, index)
    started = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    chunks = _chunks(total, list(ids.values()), bad, zone="+00" if postgres else "")
    if postgres:
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for columns_ in chunks:
                text = [list(map(str, c)) if not isinstance(c[0], str) else c for c in columns_]
                copy.write("\n".join(map("\t".join, zip(*text, strict=True))) + "\n")
    else:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - names from _meta
        connection.ensure_connection()
        for columns_ in chunks:
            _sqlite_batch(connection.connection, sql, list(zip(*columns_, strict=True)))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(AccessRecord, index)
    indexed = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    count = AccessRecord.objects.count()
    covered = AccessRecord.objects.filter(employee_id__in=bad).count()
    print(json.dumps({"rows": count, "covered": covered, "load_s": loaded, "index_s": indexed}))


def phase_query() -> None:
    _django()
    from django.db import connection

    from smishguard.gateway import scope

    people = scope.employees(COMPROMISED)
    since, until = START, START + timedelta(days=DAYS)
    out: dict[str, object] = {}

    def timed(name: str, func) -> object:
        """Wall time, and this process's CPU time (SQLite runs the query in this process; for PostgreSQL it is
        the client's share alone): on a busy machine the CPU time says what the work costs, the wall time what
        the user waited."""
        cpu, started = time.process_time(), time.perf_counter()
        result = func()
        out[name] = time.perf_counter() - started
        out[name.replace("_s", "_cpu_s")] = time.process_time() - cpu
        return result

    out["load_average"] = os.getloadavg()[0]
    connection.ensure_connection()  # the connection is not what is timed
    result = timed("scope_cold_s", lambda: scope.scope(people, since, until))
    timed("timeline_cold_s", lambda: scope.timeline(people, since, until))
    timed("scope_warm_s", lambda: scope.scope(people, since, until))
    timed("timeline_warm_s", lambda: scope.timeline(people, since, until))
    day = since + timedelta(days=DAYS // 2)
    one_day = timed("scope_one_day_s", lambda: scope.scope(people, day, day + timedelta(days=1)))
    cut_since, cut_until = since + timedelta(days=10.5), since + timedelta(days=20.5)
    cut = timed("scope_cut_warm_s", lambda: scope.scope(people, cut_since, cut_until))
    out.update(
        rows_in_scope=result.total_reads + result.refused_total,
        customers=result.total_customers,
        reads=result.total_reads,
        refused=result.refused_total,
        one_day_rows=one_day.total_reads + one_day.refused_total,
        cut_rows=cut.total_reads + cut.refused_total,
    )
    ids = [p.pk for p in people]
    statements = {
        "reads (the 30 days)": scope.reads_statement(ids, since, until),
        "reads (mid-day period)": scope.reads_statement(ids, cut_since, cut_until),
        "refused": scope.refused_rows(ids, since, until, below=False).query.sql_with_params(),
    }
    out["plan"] = []
    with connection.cursor() as cursor:
        for name, (sql, params) in statements.items():
            out["plan"].append(f"-- {name}")
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            out["plan"] += [str(r[-1]) for r in cursor.fetchall()]
    print(json.dumps(out))


def phase_cut() -> None:
    """Cold: the scope from day 10.5 to day 20.5 and its chart."""
    _django()
    from django.db import connection

    from smishguard.gateway import scope

    people = scope.employees(COMPROMISED)
    since, until = START + timedelta(days=10.5), START + timedelta(days=20.5)
    connection.ensure_connection()
    out: dict[str, object] = {}
    for name, func in (("scope", scope.scope), ("timeline", scope.timeline)):
        cpu, started = time.process_time(), time.perf_counter()
        func(people, since, until)
        out[f"cut_{name}_cold_s"] = time.perf_counter() - started
        out[f"cut_{name}_cold_cpu_s"] = time.process_time() - cpu
    print(json.dumps(out))


# ---- the driver -----------------------------------------------------------------------------------------------


def drop_from_page_cache(paths: list[Path]) -> tuple[int, int]:
    """fsync and posix_fadvise(DONTNEED) every file under ``paths``: (files advised, files that failed)."""
    done = failed = 0
    for top in paths:
        files = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
        for path in files:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                failed += 1
                continue
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                done += 1
            except OSError:
                failed += 1
            finally:
                os.close(fd)
    return done, failed


def resident_bytes(paths: list[Path]) -> int | None:
    """Bytes of these files in the OS page cache (util-linux ``fincore``), or None where fincore is missing."""
    fincore = shutil.which("fincore")
    if fincore is None:
        return None
    files = [str(p) for top in paths for p in ([top] if top.is_file() else top.rglob("*")) if p.is_file()]
    total = 0
    for start in range(0, len(files), 200):
        proc = subprocess.run(  # noqa: S603 - util-linux's fincore on our own files
            [fincore, "--bytes", "--noheadings", "--raw", "--output", "RES", *files[start : start + 200]],
            capture_output=True,
            text=True,
            check=False,
        )
        total += sum(int(x) for x in proc.stdout.split() if x.isdigit())
    return total


def run(cmd: list[str], env: dict[str, str], *, timeout: float) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603 - ours
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


def pg_bin() -> Path:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]


def bench_one(kind: str, work: Path, rows: int, deadline: float) -> dict[str, object]:
    data = work / kind
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_")}
    env.update(SMISHGUARD_DATA_DIR=str(data), PYTHONPATH=str(ROOT / "src"))
    svc = None
    if kind == "postgres":
        svc = work / "svc"
        svc.mkdir()
        text = run([str(ROOT / "scripts" / "services"), "start", str(svc)], env, timeout=120)
        for line in text.splitlines():
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                env[key] = value
        env.pop("SMISHGUARD_TEST_MODE", None)
        env.pop("SMISHGUARD_REDIS_URL", None)  # the scope needs no Redis
    left = lambda: max(30.0, deadline - time.monotonic())  # noqa: E731 - a small clock
    try:
        run([str(SMISHGUARD), "migrate"], env, timeout=left())
        fill_env = dict(env)
        if kind == "postgres":
            fill_env["SMISHGUARD_DATABASE_URL"] = env["SMISHGUARD_MIGRATE_DATABASE_URL"]  # drops/builds indexes
        back = (
            "from smishguard.clitools import setup_django; setup_django(); "
            "from django.core.management import call_command; "
            "call_command('migrate', 'gateway', '0007_drop_admitted_index', verbosity=0)"
        )
        run([str(PYTHON), "-c", back], fill_env, timeout=left())  # the release before the roll-up
        log(f"{kind}: filling {rows:,} rows")
        fill_cmd = [str(PYTHON), __file__, "--phase", "fill", "--rows", str(rows)]
        fill = json.loads(run(fill_cmd, fill_env, timeout=left()))
        log(
            f"{kind}: {fill['rows']:,} rows ({fill['covered']:,} of the two accounts) in {fill['load_s']:.0f} s, "
            f"indexes {fill['index_s']:.0f} s"
        )
        started = time.perf_counter()
        run([str(SMISHGUARD), "migrate"], env, timeout=left())  # the upgrade: 0008 fills the roll-up
        fill["upgrade_s"] = time.perf_counter() - started
        if kind == "postgres":  # what autovacuum does after the upgrade's insert
            vacuum = (
                "from smishguard.clitools import setup_django; setup_django(); "
                "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE gateway_customerread')"
            )
            run([str(PYTHON), "-c", vacuum], fill_env, timeout=left())
        log(f"{kind}: upgrade (roll-up filled) in {fill['upgrade_s']:.0f} s")
        files = [data] if kind == "sqlite" else [svc / "pg" / "data"]

        def cold() -> tuple[int, int, int | None, int | None]:
            if kind == "postgres":
                # -l: the restarted server's output goes to its log, not to a pipe this process would wait on
                pg_ctl = [
                    str(pg_bin() / "pg_ctl"),
                    "-D",
                    str(svc / "pg" / "data"),
                    "-l",
                    str(svc / "pg" / "postgres.log"),
                ]
                subprocess.run(  # noqa: S603 - Debian's pg_ctl on our throw-away server
                    as_postgres([*pg_ctl, "-m", "fast", "-w", "-t", "60", "restart"]),
                    check=True,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=120,
                )
            before = resident_bytes(files)
            advised, failed = drop_from_page_cache(files)
            return advised, failed, before, resident_bytes(files)

        advised = cold()
        query = json.loads(run([str(PYTHON), __file__, "--phase", "query"], env, timeout=left()))
        cold()
        out = work / f"{kind}-scope.json"
        started = time.perf_counter()
        until = (START + timedelta(days=DAYS)).isoformat()
        cmd = [str(SMISHGUARD), "incident", "scope", "--since", START.isoformat(), "--until", until, "--out", str(out)]
        for email in COMPROMISED:
            cmd += ["--user", email]
        run(cmd, env, timeout=left())
        command_s = time.perf_counter() - started
        written = json.loads(out.read_text(encoding="utf-8"))
        assert written["total_reads"] == query["reads"], (written["total_reads"], query["reads"])
        cold()
        query.update(json.loads(run([str(PYTHON), __file__, "--phase", "cut"], env, timeout=left())))
        size = sum(p.stat().st_size for p in files[0].rglob("*") if p.is_file())
        return {"kind": kind, **fill, **query, "command_s": command_s, "advised_files": advised, "database_bytes": size}
    finally:
        if svc is not None:
            stop = [str(ROOT / "scripts" / "services"), "stop", str(svc)]
            subprocess.run(stop, check=False, capture_output=True)  # noqa: S603 - our own script


def _t(r: dict[str, object], name: str) -> str:
    return f"{r[name + '_s']:.3f} (cpu {r[name + '_cpu_s']:.3f})"


def report(results: list[dict[str, object]], rows: int) -> None:
    print(f"\n{rows:,} access rows; the two accounts' rows over 30 days; times in seconds, wall (this process's CPU)\n")
    print(
        "| database | rows in the scope | customers | scope() cold | scope() warm | timeline() cold | timeline() warm "
        "| one-day scope | whole command (new process, cold) | mid-day scope cold | its timeline cold "
        "| mid-day scope warm | load | index build | upgrade (roll-up fill) | size | load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['kind']} | {r['rows_in_scope']:,} | {r['customers']:,} | {_t(r, 'scope_cold')} "
            f"| {_t(r, 'scope_warm')} | {_t(r, 'timeline_cold')} | {_t(r, 'timeline_warm')} "
            f"| {_t(r, 'scope_one_day')} ({r['one_day_rows']:,} rows) | {r['command_s']:.2f} "
            f"| {_t(r, 'cut_scope_cold')} ({r['cut_rows']:,} rows) | {_t(r, 'cut_timeline_cold')} "
            f"| {_t(r, 'scope_cut_warm')} | {r['load_s']:.0f} "
            f"| {r['index_s']:.0f} | {r['upgrade_s']:.0f} | {int(r['database_bytes']) / 1e9:.2f} GB "
            f"| {r['load_average']:.1f} |"
        )
    for r in results:
        advised, failed, before, after = r["advised_files"]
        cached = (
            "" if before is None else f"; in the page cache before {before / 1e6:,.0f} MB, after {after / 1e6:,.0f} MB"
        )
        print(f"\n{r['kind']}: fadvise(DONTNEED) on {advised} file(s) ({failed} failed){cached}; the scope's plan:")
        for line in r["plan"]:
            print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--phase", choices=("fill", "query", "cut"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "fill":
        phase_fill(args.rows)
        return 0
    if args.phase == "query":
        phase_query()
        return 0
    if args.phase == "cut":
        phase_cut()
        return 0
    deadline = time.monotonic() + args.timeout
    work = Path(tempfile.mkdtemp(prefix="bench-scope-"))
    work.chmod(0o711)  # the postgres user must reach DIR/svc/pg
    results = []
    try:
        for kind in ("sqlite", "postgres"):
            if args.only in (None, kind):
                results.append(bench_one(kind, work, args.rows, deadline))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
