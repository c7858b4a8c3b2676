"""``smishguard watch ct`` (the Certificate Transparency watcher) and ``smishguard watch status``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from smishguard.clitools import CommandError, print_json, setup_django
from smishguard.detection.cli import add_brand_options, build_matcher

DESCRIPTION = """\
Watch Certificate Transparency for lookalike domains of the protected brands.

Sources (one kind per run):
  the logs of a log list in Chrome's log_list.json form (--log-list FILE, or log_list in the [watch] table
  of smishguard.toml): RFC 6962 logs and static-CT (tiled) logs, read from each log's checkpoint, every tree
  head verified with the log's key before the watcher moves on;
  --certstream URL: a certstream-compatible websocket (e.g. a self-hosted certstream-server-go);
  --replay FILE|-: JSON lines in certstream's message form.

Each lookalike name becomes one alert per domain (stored in the database, shown in the console, pushed to
the sinks: --jsonl FILE, --webhook URL, or jsonl / webhook in [watch]).  --json prints each new alert as a
JSON line on stdout.  Exit status: 0, 1 when a log failed or its tree head was refused, 2 on bad usage.
"""


def register(sub: argparse._SubParsersAction) -> None:
    watch = sub.add_parser("watch", help="watch Certificate Transparency logs for lookalike domains")
    wsub = watch.add_subparsers(dest="watch_command", metavar="ACTION")
    wsub.required = True
    p = wsub.add_parser(
        "ct",
        help="read CT logs (or certstream, or a replay) and alert on lookalike domains",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--log-list", metavar="FILE", help="log list (Chrome log_list.json v3 form) to read")
    source.add_argument("--certstream", metavar="URL", help="a certstream websocket (ws:// or wss://)")
    source.add_argument("--replay", metavar="FILE|-", help="certstream messages as JSON lines ('-': standard input)")
    p.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="TEXT",
        help="only the logs whose description or URL contains TEXT (repeatable)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="read up to each log's current verified tree head (or the end of the replay), then exit",
    )
    p.add_argument("--json", action="store_true", help="print each new alert as a JSON line on stdout")
    p.add_argument("--jsonl", metavar="FILE", help="append each new alert to FILE as a JSON line")
    p.add_argument("--webhook", metavar="URL", help="POST each new alert to URL (through the task worker)")
    p.add_argument("--batch-size", type=int, metavar="N", help="entries asked for per request (default 256)")
    p.add_argument("--poll-interval", type=float, metavar="S", help="seconds between tree heads (default 10)")
    p.add_argument(
        "--stats-interval", type=float, metavar="S", help="seconds between figures lines on stderr (default 60; 0: off)"
    )
    p.add_argument(
        "--start",
        choices=("head", "beginning"),
        help="where a log seen for the first time starts (default: head, its current tree size)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="with --certstream: stop after N certificates")
    p.add_argument("--no-live", action="store_true", help="no redrawn status block, even on a terminal")
    add_brand_options(p)
    p.set_defaults(func=cmd_watch_ct)

    p = wsub.add_parser(
        "status",
        help="each watched log's, certstream's and replay's position, tree size, lag, entries read, alerts "
        "raised, last error and last seen (JSON lines)",
    )
    p.set_defaults(func=cmd_watch_status)


def _options(args: argparse.Namespace):
    from django.conf import settings

    from smishguard.watch.config import options_from_table, watch_table_from_file, with_overrides
    from smishguard.watch.errors import WatchConfigInvalid

    try:
        table, base, where = None, None, "[watch]"
        if args.config:
            table = watch_table_from_file(args.config)
            base, where = Path(args.config).resolve().parent, f"{args.config}: [watch]"
        if table is None:
            table = settings.SMISHGUARD.raw.get("watch")
            base = Path.cwd()
            where = "smishguard.toml: [watch]"
        options = options_from_table(table, base_dir=base, where=where)
        return with_overrides(
            options,
            log_list=args.log_list,
            jsonl=args.jsonl,
            webhook=args.webhook,
            batch_size=args.batch_size,
            poll_interval=args.poll_interval,
            stats_interval=args.stats_interval,
            start=args.start,
        )
    except WatchConfigInvalid as exc:
        raise CommandError(str(exc)) from None


def _logs(args: argparse.Namespace, options):
    from smishguard.engine.ct import LogListInvalid, load_log_list

    if not options.log_list:
        raise CommandError(
            "nothing to watch: give --log-list FILE (or log_list in the [watch] table of smishguard.toml), "
            "--certstream URL or --replay FILE"
        )
    try:
        logs = load_log_list(options.log_list)
    except LogListInvalid as exc:
        raise CommandError(f"log list {options.log_list}: {exc}") from None
    logs = [i for i in logs if i.state not in ("retired", "rejected")]
    if args.log:
        wanted = [t.lower() for t in args.log]
        logs = [i for i in logs if any(t in i.description.lower() or t in i.url.lower() for t in wanted)]
    if not logs:
        raise CommandError(f"log list {options.log_list}: no log to read (retired and rejected logs are skipped)")
    return logs


def cmd_watch_ct(args: argparse.Namespace) -> int:
    setup_django()
    from smishguard.engine.ct import CertstreamClient, LogUnavailable, open_replay
    from smishguard.watch.runner import Console, Figures, Watcher, live_display_wanted

    options = _options(args)
    if args.limit is not None and (not args.certstream or args.limit < 1):
        raise CommandError("--limit N (N >= 1) goes with --certstream")
    if args.certstream and args.once:
        raise CommandError("--once does not apply to --certstream (a live feed has no end): use --limit N")
    logs = None if (args.replay or args.certstream) else _logs(args, options)
    stop = threading.Event()
    client = None
    if args.certstream:
        try:
            client = CertstreamClient(args.certstream, stop=stop, sleep=stop.wait)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    matcher = build_matcher(args)
    if not matcher.brands:
        print(
            "smishguard: warning: no protected brands (add some with `smishguard brands import`, or --config/--brand):"
            " nothing can match",
            file=sys.stderr,
        )

    console = Console(
        Figures(),
        sys.stderr,
        interval=options.stats_interval,
        live=not args.no_live and live_display_wanted(sys.stderr),
    )
    reload = None
    if not args.config and not args.brand:  # the database's brands: follow the console's changes
        from smishguard.detection.services import current_matcher as reload
    watcher = Watcher(
        matcher=matcher,
        options=options,
        console=console,
        stop=stop,
        json_out=sys.stdout if args.json else None,
        reload_matcher=reload,
    )
    previous = _install_signals(stop, console)
    console.start()
    code = 0
    try:
        watcher.deliver_pending()
        if not (args.once or args.replay):
            watcher.start_recovery()
        if args.replay:
            from smishguard.watch import store

            key = None
            try:
                with open_replay(args.replay) as items:
                    key = store.ensure_replay_state(args.replay).key  # for `watch status`, once it opened
                    bad = watcher.run_stream(
                        items, label=f"replay {args.replay}", what="line", state_key=key, kind="replay"
                    )
            except OSError as exc:
                if key is not None:
                    store.record_error(key, f"cannot read {args.replay}: {exc.strerror or exc}")
                raise CommandError(f"cannot read {args.replay}: {exc.strerror or exc}") from None
            if bad:
                store.record_error(key, f"{bad} bad line(s) skipped")
                console.say(f"replay {args.replay}: {bad} bad line(s) skipped, the rest processed")
        elif args.certstream:
            from smishguard.watch import store

            assert client is not None  # noqa: S101 - made above for --certstream
            state = store.ensure_stream_state(args.certstream)
            try:
                watcher.run_stream(
                    client.items(max_items=args.limit), label=f"certstream {args.certstream}", state_key=state.key
                )
            except LogUnavailable as exc:
                store.record_error(state.key, str(exc))
                raise CommandError(str(exc), exit_code=1) from None
        else:
            failed = watcher.run_logs(logs, once=args.once)
            if failed:
                console.say(f"{len(failed)} of {len(logs)} log(s) failed: {', '.join(failed)}")
                code = 1
    finally:
        console.close(summary=True)
        _restore_signals(previous)
    return code


def _install_signals(stop: threading.Event, console):
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.set()
        console.notice("stopping after the current batch (again to stop at once)")

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous) -> None:
    if previous:
        for sig, old in previous.items():
            signal.signal(sig, old)


def cmd_watch_status(args: argparse.Namespace) -> int:
    setup_django()
    from smishguard.watch.models import LogState

    listed = 0
    for state in LogState.objects.all():
        listed += 1
        print_json(state.to_dict())
    if not listed:  # stdout stays valid (empty) JSON lines; the person at the terminal is told why
        print(
            "smishguard: nothing watched yet: run `smishguard watch ct` with --log-list FILE, --certstream URL "
            "or --replay FILE",
            file=sys.stderr,
        )
    return 0
