"""``smishguard scan``, ``domains check``, ``brands import|list`` and ``model train``.

``scan`` and ``domains check`` use the database's brands, or with ``--config FILE.toml`` the file's brands and
keywords (no database needed then); ``--brand NAME=domain1,domain2`` adds a brand for one run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from smishguard.cli import CommandError, needs_django, print_json, progress, setup_django


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="verdict for a text (smishing / spam / benign)",
        description="Scan one text, or a file of texts (one per line, or JSON lines with a 'text' field; '-' for "
        "standard input).  With --file, one JSON line per input is printed, in input order.",
    )
    p.add_argument("text", nargs="?", help="the text to scan")
    p.add_argument("--file", metavar="F", help="scan every line of F ('-' for standard input)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    _brand_options(p)
    p.set_defaults(func=cmd_scan)

    dom = sub.add_parser("domains", help="lookalike checks of domains against the protected brands")
    dsub = dom.add_subparsers(dest="domains_command", metavar="ACTION")
    dsub.required = True
    p = dsub.add_parser(
        "check",
        help="check domains; prints one JSON line per input, in order",
        description="Print one JSON object per domain: domain, registrable, verdict (lookalike / official / "
        "clear), brand, techniques, score.  A name that is not a valid domain gets an 'error' object instead.",
    )
    p.add_argument("domains", nargs="*", metavar="DOMAIN")
    p.add_argument("--file", metavar="F", help="one domain per line ('-' for standard input)")
    _brand_options(p)
    p.set_defaults(func=cmd_domains_check)

    br = sub.add_parser("brands", help="the protected brands, kept in the database")
    bsub = br.add_subparsers(dest="brands_command", metavar="ACTION")
    bsub.required = True
    p = bsub.add_parser("import", help="load brands and keywords from a TOML file into the database")
    p.add_argument("file", metavar="FILE.toml")
    p.set_defaults(func=cmd_brands_import)
    p = bsub.add_parser("list", help="list the protected brands")
    p.add_argument("--json", action="store_true", help="JSON lines")
    p.set_defaults(func=cmd_brands_list)

    mod = sub.add_parser("model", help="the text model")
    msub = mod.add_subparsers(dest="model_command", metavar="ACTION")
    msub.required = True
    p = msub.add_parser(
        "train",
        help="train the text model from labelled SMS data (reproducible, seeded)",
        description="Train on the CC BY 4.0 sets in DIR (uci_sms_spam_collection.tsv, mishra_soni_train.csv), "
        "de-duplicated before a deterministic held-out split, and print the held-out figures as JSON.",
    )
    p.add_argument("--data", metavar="DIR", required=True, help="folder with the labelled SMS files")
    p.add_argument("--out", metavar="FILE", help="where to write the model (default: the packaged model file)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the seed the shipped model used)")
    p.set_defaults(func=cmd_model_train)


def _brand_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE.toml", help="use this file's brands and keywords, not the database's")
    p.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="NAME=domain1,domain2",
        help="add a brand for this run (repeatable)",
    )


def _parse_brand_option(value: str):
    from smishguard.engine.domains import Brand, InvalidDomain, normalise_host

    name, sep, domains = value.partition("=")
    name = name.strip()
    if not sep or not name or not domains.strip():
        raise CommandError(f"--brand takes NAME=domain1,domain2, not {value!r}")
    try:
        clean = tuple(normalise_host(d) for d in domains.split(",") if d.strip())
    except InvalidDomain as exc:
        raise CommandError(f"--brand {name}: {exc}") from None
    return Brand(name, clean)


def build_matcher(args: argparse.Namespace):
    """The matcher for this run: --config file or the database, plus any --brand options."""
    from smishguard.engine.domains import BrandConfigError, LookalikeMatcher, load_brand_config

    extra = [_parse_brand_option(v) for v in args.brand]
    if args.config:
        try:
            brands, keywords = load_brand_config(args.config)
        except BrandConfigError as exc:
            raise CommandError(str(exc)) from None
        return LookalikeMatcher([*brands, *extra], keywords)
    setup_django()
    from django.db.utils import OperationalError, ProgrammingError

    from smishguard.reports.detection import current_matcher, engine_brands
    from smishguard.reports.models import Keyword

    try:
        if not extra:
            return current_matcher()
        return LookalikeMatcher([*engine_brands(), *extra], list(Keyword.objects.values_list("word", flat=True)))
    except (OperationalError, ProgrammingError):
        # No database here yet: still useful, with the --brand options only.
        print(
            "smishguard: note: no database here, so no protected brands from it "
            "(run `smishguard migrate` and `smishguard brands import`, or pass --config FILE.toml)",
            file=sys.stderr,
        )
        return LookalikeMatcher(extra)


def _open_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines of a file or standard input, without their line endings."""
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        for number, raw in enumerate(stream, start=1):
            yield number, raw.rstrip(b"\r\n")
    finally:
        if path != "-":
            stream.close()


def _error(code: str, message: str, **where: object) -> dict[str, object]:
    return {**where, "error": {"code": code, "message": message}}


def _texts_from_file(path: str) -> Iterator[tuple[int, str | None, dict | None]]:
    """(line, text, error): a message per line, or JSON lines with a "text" field."""
    for number, raw in _open_lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, None, _error("invalid_utf8", f"line {number} is not UTF-8 ({exc.reason})", line=number)
            continue
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                text = obj.get("text")
                if not isinstance(text, str):
                    yield number, None, _error("missing_text", f'line {number} has no string "text" field', line=number)
                else:
                    yield number, text, None
                continue
        yield number, line, None


def cmd_scan(args: argparse.Namespace) -> int:
    from smishguard.engine.sms import verdict_many

    if (args.text is None) == (args.file is None):
        raise CommandError('give either a TEXT or --file F (see "smishguard scan --help")')
    matcher = build_matcher(args)
    if args.text is not None:
        result = next(iter(verdict_many([args.text], matcher=matcher)))
        if args.json:
            print_json(result.to_dict())
        else:
            _print_readable(result)
        return 0
    return _scan_file(args.file, matcher)


def _scan_file(path: str, matcher) -> int:
    from smishguard.engine.sms import verdict_many

    write = sys.stdout.write
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    batch: list[tuple[int, str | None, dict | None]] = []

    def flush() -> None:
        texts = [t for _, t, err in batch if err is None]
        verdicts = iter(verdict_many(texts, matcher=matcher))
        out = []
        for _, _, err in batch:
            out.append(dumps(err if err is not None else next(verdicts).to_dict()))
        write("\n".join(out) + "\n")
        batch.clear()

    for item in progress(_texts_from_file(path), label="scanned"):
        batch.append(item)
        if len(batch) >= 2048:
            flush()
    if batch:
        flush()
    return 0


def _print_readable(result) -> None:
    labels = {"smishing": "SMISHING", "spam": "spam", "benign": "benign"}
    print(f"{labels.get(result.verdict, result.verdict)} (score {result.score:.2f})")
    for reason in result.reasons:
        print(f"  - {reason.detail}")
    for d in result.domains:
        brand = f" imitates {d.brand}" if d.brand else ""
        techniques = f" [{', '.join(d.techniques)}]" if d.techniques else ""
        print(f"  {d.domain}: {d.verdict}{brand}{techniques}")


def _domains_input(args: argparse.Namespace) -> Iterator[tuple[str, dict | None]]:
    if args.domains:
        for d in args.domains:
            yield d, None
    if args.file:
        for number, raw in _open_lines(args.file):
            try:
                yield raw.decode("utf-8").strip(), None
            except UnicodeDecodeError:
                yield "", _error("invalid_utf8", f"line {number} is not UTF-8", line=number)


def cmd_domains_check(args: argparse.Namespace) -> int:
    from smishguard.engine.domains import InvalidDomain

    if not args.domains and not args.file:
        raise CommandError('give one or more DOMAINs or --file F (see "smishguard domains check --help")')
    matcher = build_matcher(args)
    write = sys.stdout.write
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    out: list[str] = []
    names: list[str] = []
    errors: list[dict | None] = []

    def flush() -> None:
        results = iter(matcher.check_many([n for n, e in zip(names, errors, strict=True) if e is None]))
        for name, err in zip(names, errors, strict=True):
            if err is not None:
                out.append(dumps(err))
                continue
            res = next(results)
            if isinstance(res, InvalidDomain):
                out.append(dumps(_error("invalid_domain", str(res), domain=name)))
            else:
                out.append(dumps(res.to_dict()))
        write("\n".join(out) + "\n")
        out.clear()
        names.clear()
        errors.clear()

    for name, err in progress(_domains_input(args), label="checked"):
        names.append(name)
        errors.append(err)
        if len(names) >= 4096:
            flush()
    if names:
        flush()
    return 0


@needs_django
def cmd_brands_import(args: argparse.Namespace) -> int:
    from smishguard.engine.domains import BrandConfigError, load_brand_config
    from smishguard.errors import SmishguardError
    from smishguard.reports.detection import import_config

    try:
        brands, keywords = load_brand_config(args.file)
        counts = import_config(brands, keywords)
    except (BrandConfigError, SmishguardError) as exc:
        raise CommandError(str(exc)) from None
    print(f"imported {counts['brands']} brand(s), added {counts['keywords_added']} keyword(s)")
    return 0


@needs_django
def cmd_brands_list(args: argparse.Namespace) -> int:
    from smishguard.reports.models import Brand

    for b in Brand.objects.all():
        if args.json:
            print_json({"name": b.name, "domains": b.domains, "tokens": b.tokens})
        else:
            tokens = f"  tokens: {', '.join(b.tokens)}" if b.tokens else ""
            print(f"{b.name:<24} {', '.join(b.domains)}{tokens}")
    return 0


def cmd_model_train(args: argparse.Namespace) -> int:
    from smishguard.engine.sms.cli_support import train_command
    from smishguard.engine.sms.model import DEFAULT_SEED

    if not Path(args.data).is_dir():
        raise CommandError(f"--data {args.data} is not a folder")
    try:
        figures = train_command(args.data, args.out, DEFAULT_SEED if args.seed is None else args.seed)
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    print_json(figures)
    return 0
