"""``smishguard scan``, ``domains check``, ``brands import|list`` and ``model train``.

``scan`` and ``domains check`` use the database's brands, or with ``--config FILE.toml`` the file's brands and
keywords (no database needed then); ``--brand NAME=domain1,domain2`` adds a brand for one run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from smishguard.clitools import CommandError, needs_django, print_json, setup_django


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
    add_brand_options(p)
    p.set_defaults(func=cmd_scan)

    dom = sub.add_parser("domains", help="lookalike checks of domains against the protected brands")
    dsub = dom.add_subparsers(dest="domains_command", metavar="ACTION")
    dsub.required = True
    p = dsub.add_parser(
        "check",
        help="check domains; prints one JSON line per domain, in order",
        description="Print one JSON object per domain, in input order: domain, registrable, verdict (lookalike / "
        "official / partner / clear), brand, techniques, score, reasons, matcher (the rules' version).  A name that "
        "is not a valid domain is reported on stderr "
        "instead (for --file: with its line number; blank lines are skipped) and the rest are still checked; "
        "the exit status is then 1.",
    )
    p.add_argument("domains", nargs="*", metavar="DOMAIN")
    p.add_argument("--file", metavar="F", help="one domain per line ('-' for standard input)")
    add_brand_options(p)
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


def add_brand_options(p: argparse.ArgumentParser) -> None:
    """``--config FILE.toml`` and ``--brand NAME=domains``: the options that choose the brands for a run (also the
    CT watcher's, ``smishguard watch``); :func:`build_matcher` reads them."""
    p.add_argument("--config", metavar="FILE.toml", help="use this file's brands and keywords, not the database's")
    p.add_argument(
        "--min-score",
        type=_score,
        default=None,
        metavar="X",
        help="where 'lookalike' starts, 0 to 1 (default: [detection] min_score of the configuration, else 0)",
    )
    p.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="NAME=domain1,domain2",
        help="add a brand for this run (repeatable)",
    )


def _score(value: str) -> float:
    try:
        score = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= score <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {value}")
    return score


def _file_min_score(path: str) -> float:
    """``[detection] min_score`` of a --config file (a smishguard.toml may hold the brands and the line)."""
    import tomllib

    try:
        doc = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return 0.0  # load_brand_config has said what is wrong with the file already
    if "detection" not in doc:
        return 0.0  # (no need for smishguard.config, a 70 ms import, in a command that checks 100,000 names)
    from smishguard.config import ConfigError, detection_settings

    try:
        return detection_settings(doc).min_score
    except ConfigError as exc:
        raise CommandError(f"{path}: {exc}") from None


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
    chosen = getattr(args, "min_score", None)
    if args.config:
        try:
            brands, keywords = load_brand_config(args.config)
        except BrandConfigError as exc:
            raise CommandError(str(exc)) from None
        line = _file_min_score(args.config) if chosen is None else chosen
        return LookalikeMatcher([*brands, *extra], keywords, min_score=line)
    setup_django()
    from django.db.utils import OperationalError, ProgrammingError

    from smishguard.detection.services import current_matcher, keywords, matcher_brands, min_score

    try:
        if not extra and (chosen is None or chosen == min_score()):
            return current_matcher()
        line = min_score() if chosen is None else chosen
        return LookalikeMatcher([*matcher_brands(), *extra], keywords(), min_score=line)
    except (OperationalError, ProgrammingError):
        # No database here yet: still useful, with the --brand options only.
        print(
            "smishguard: note: no database here, so no protected brands from it "
            "(run `smishguard migrate` and `smishguard brands import`, or pass --config FILE.toml)",
            file=sys.stderr,
        )
        return LookalikeMatcher(extra, min_score=chosen or 0.0)


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
    return _texts_from_lines(_open_lines(path))


def _texts_from_lines(lines: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, str | None, dict | None]]:
    for number, raw in lines:
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


_CHUNK_BYTES = 256 * 1024  # input is read, checked and printed this much at a time


def _line_chunks(path: str) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, raw lines with their endings) for each ~256 KB of a file or standard input."""
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        number = 1
        while lines := stream.readlines(_CHUNK_BYTES):
            yield number, lines
            number += len(lines)
    finally:
        if path != "-":
            stream.close()


def _decode_chunk(lines: list[bytes]) -> list[str] | None:
    """The lines decoded, without their line endings; None when some line is not UTF-8.

    One decode for the whole chunk: a newline byte is never part of a multi-byte UTF-8 sequence, so this is
    the same as decoding line by line."""
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        return None
    pieces = text.split("\n")
    if len(pieces) > len(lines):  # the chunk ends with a newline: an empty piece after it
        pieces.pop()
    return [p.rstrip("\r") if p[-1:] == "\r" else p for p in pieces]


def _texts_of_chunk(first: int, lines: list[bytes]) -> tuple[list[str | None], dict[int, dict]]:
    """As _texts_from_file, for one chunk: texts (None where a line is bad) and the errors by index."""
    decoded = _decode_chunk(lines)
    if decoded is not None and not any(line[:1] == "{" for line in decoded):
        return decoded, {}  # the common case: plain messages, all valid
    texts: list[str | None] = []
    errors: dict[int, dict] = {}
    numbered = enumerate((raw.rstrip(b"\r\n") for raw in lines), first)
    for i, (_, text, err) in enumerate(_texts_from_lines(numbered)):
        texts.append(text)
        if err is not None:
            errors[i] = err
    return texts, errors


class _Progress:
    """A progress line on stderr, only when stderr is a terminal (updated once per chunk)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.done = 0
        self.tty = sys.stderr.isatty()

    def add(self, n: int) -> None:
        self.done += n
        if self.tty:
            sys.stderr.write(f"\r{self.label} {self.done}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write(f"\r{self.label} {self.done} done\n")


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
    drawn = _Progress("scanned")
    for first, lines in _line_chunks(path):
        texts, errors = _texts_of_chunk(first, lines)
        if errors:
            verdicts = iter(verdict_many([t for t in texts if t is not None], matcher=matcher))
            out = [dumps(errors[i]) if t is None else next(verdicts).to_json() for i, t in enumerate(texts)]
        else:
            out = [v.to_json() for v in verdict_many(texts, matcher=matcher)]
        out.append("")
        write("\n".join(out))
        drawn.add(len(lines))
    drawn.close()
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


def _domain_chunks(args: argparse.Namespace) -> Iterator[tuple[int | None, list[str], dict[int, str]]]:
    """(number of the chunk's first line, or None for names given as arguments; the names; why some could not
    be read, by index: the lines that are not UTF-8), a chunk at a time."""
    if args.domains:
        yield None, list(args.domains), {}
    if args.file:
        for first, lines in _line_chunks(args.file):
            decoded = _decode_chunk(lines)
            if decoded is not None:
                yield first, [d.strip() for d in decoded], {}
                continue
            names: list[str] = []
            errors: dict[int, str] = {}
            for i, raw in enumerate(lines):
                try:
                    names.append(raw.rstrip(b"\r\n").decode("utf-8").strip())
                except UnicodeDecodeError as exc:
                    names.append("")
                    errors[i] = f"not UTF-8 ({exc.reason})"
            yield first, names, errors


def cmd_domains_check(args: argparse.Namespace) -> int:
    """One JSON line per good name on stdout, in input order; a bad name is one line on stderr (a file's by
    its line number) and the rest go on; exit status 1 when any name was bad."""
    from smishguard.engine.domains import DomainResult, InvalidDomain

    if not args.domains and not args.file:
        raise CommandError('give one or more DOMAINs or --file F (see "smishguard domains check --help")')
    matcher = build_matcher(args)
    write = sys.stdout.write
    drawn = _Progress("checked")
    source = "standard input" if args.file == "-" else args.file
    bad = 0

    def report(first: int | None, i: int, message: str) -> None:
        where = "" if first is None else f"{source}: line {first + i}: "
        sys.stdout.flush()  # keep the good lines before the error in a shared terminal
        print(f"smishguard: error: {where}{message}", file=sys.stderr)

    for first, names, errors in _domain_chunks(args):
        results = list(matcher.check_many(names))
        out = [r.to_json() if type(r) is DomainResult else None for r in results]
        if None in out:
            good: list[str] = []
            for i, (name, line) in enumerate(zip(names, out, strict=True)):
                if line is not None:
                    good.append(line)
                elif i in errors:
                    bad += 1
                    report(first, i, errors[i])
                elif first is not None and not name:
                    continue  # a blank line of a file: nothing to check
                else:
                    bad += 1
                    exc = results[i]
                    reason = exc.reason if isinstance(exc, InvalidDomain) else str(exc)
                    shown = name if len(name) <= 80 else name[:77] + "..."
                    report(first, i, f"{shown!r} is not a domain name: {reason}")
            out = good
        if out:
            out.append("")
            write("\n".join(out))
        drawn.add(len(names))
    drawn.close()
    return 1 if bad else 0


@needs_django
def cmd_brands_import(args: argparse.Namespace) -> int:
    from smishguard.detection.services import import_config
    from smishguard.engine.domains import BrandConfigError, load_brand_config

    try:
        brands, keywords = load_brand_config(args.file)
    except BrandConfigError as exc:
        raise CommandError(str(exc)) from None
    counts = import_config(brands, keywords)  # a refusal of ours: one line from cli.main
    print(f"imported {counts['brands']} brand(s), added {counts['keywords_added']} keyword(s)")
    return 0


@needs_django
def cmd_brands_list(args: argparse.Namespace) -> int:
    from smishguard.detection.models import Brand

    for b in Brand.objects.all():
        if args.json:
            print_json({"name": b.name, "domains": b.domains, "tokens": b.tokens, "partners": b.partners})
        else:
            tokens = f"  tokens: {', '.join(b.tokens)}" if b.tokens else ""
            partners = f"  partners: {', '.join(b.partners)}" if b.partners else ""
            print(f"{b.name:<24} {', '.join(b.domains)}{tokens}{partners}")
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
