"""Labelled SMS data: reading the shared sets, de-duplicating them, and a deterministic held-out split.

The shipped model trains on the two CC BY 4.0 sets only (UCI SMS Spam Collection; Mishra & Soni). They overlap,
so they are merged and de-duplicated *before* the split, on a normalised form of the text (case-folded, NFKC,
letters and digits only). Where the copies of one text disagree, Mishra & Soni's label wins (they re-labelled
about 360 UCI "spam" texts as "smishing"); inside one set, the majority label wins and a tie goes to the more
harmful label. SmishTank (all smishing, no licence stated) is read for evaluation only.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LABELS: tuple[str, ...] = ("ham", "spam", "smishing")
_SEVERITY = {"ham": 0, "spam": 1, "smishing": 2}

UCI_FILE = "uci_sms_spam_collection.tsv"
MISHRA_FILE = "mishra_soni_train.csv"
SMISHTANK_FILE = "smishtank.csv"

_NON_WORD = re.compile(r"[\W_]+")


class DatasetError(ValueError):
    """The data directory or one of its files is missing or not in the expected shape."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # one of LABELS
    source: str  # "uci", "mishra", "both"


@dataclass(frozen=True, slots=True)
class DedupeStats:
    uci_rows: int
    mishra_rows: int
    merged: int  # distinct normalised texts
    in_both: int  # texts present in both sets
    label_conflicts: int  # texts in both sets whose labels disagree (Mishra & Soni's label kept)
    by_label: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return {
            "uci_rows": self.uci_rows,
            "mishra_rows": self.mishra_rows,
            "merged": self.merged,
            "in_both": self.in_both,
            "label_conflicts": self.label_conflicts,
            "by_label": dict(self.by_label),
        }


def default_data_dir() -> Path:
    """The shared SMS data: $SMISHGUARD_SHARED_DATA/sms, else ../shared/data/sms beside the project root."""
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    if env:
        return Path(env) / "sms"
    root = Path(__file__).resolve().parents[4]  # src/smishguard/engine/sms/dataset.py -> project root
    return root.parent / "shared" / "data" / "sms"


def resolve_sms_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Accept either the sms/ folder itself or the data folder that holds it."""
    path = Path(data_dir)
    if (path / UCI_FILE).is_file() or (path / MISHRA_FILE).is_file():
        return path
    if (path / "sms" / UCI_FILE).is_file() or (path / "sms" / MISHRA_FILE).is_file():
        return path / "sms"
    raise DatasetError(f"no SMS data in {path}: expected {UCI_FILE} and {MISHRA_FILE} there or in {path}/sms")


def normalise_for_dedupe(text: str) -> str:
    """The key two copies of one message share: NFKC, case-folded, letters and digits only."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def read_uci(sms_dir: Path) -> list[tuple[str, str]]:
    path = sms_dir / UCI_FILE
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for lineno, raw_line in enumerate(fh, 1):
            line = raw_line.rstrip("\r\n")
            if not line:
                continue
            label, sep, text = line.partition("\t")
            label = label.strip().lower()
            if not sep or label not in ("ham", "spam"):
                raise DatasetError(f"{path}:{lineno}: expected 'ham|spam<TAB>text'")
            rows.append((text, label))
    return rows


def read_mishra(sms_dir: Path) -> list[tuple[str, str]]:
    path = sms_dir / MISHRA_FILE
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "LABEL" not in reader.fieldnames or "TEXT" not in reader.fieldnames:
            raise DatasetError(f"{path}: expected columns LABEL and TEXT")
        for row in reader:
            label = (row["LABEL"] or "").strip().lower()
            if label not in _SEVERITY:
                raise DatasetError(f"{path}:{reader.line_num}: unknown label {label!r}")
            rows.append((row["TEXT"] or "", label))
    return rows


def read_smishtank(sms_dir: Path) -> list[str]:
    """SmishTank message texts (all smishing). For evaluation only: never train the shipped model on them."""
    path = sms_dir / SMISHTANK_FILE
    texts: list[str] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("MainText") or row.get("Fulltext") or "").strip()
            if text:
                texts.append(text)
    return texts


def _vote(labels: list[str]) -> str:
    counts = Counter(labels)
    return max(counts, key=lambda lab: (counts[lab], _SEVERITY[lab]))


def merge_and_dedupe(uci: list[tuple[str, str]], mishra: list[tuple[str, str]]) -> tuple[list[Example], DedupeStats]:
    """One example per normalised text, in a stable order (sorted by the normalised key)."""
    texts: dict[str, str] = {}
    uci_labels: dict[str, list[str]] = {}
    mishra_labels: dict[str, list[str]] = {}
    for rows, into in ((mishra, mishra_labels), (uci, uci_labels)):
        for text, label in rows:
            key = normalise_for_dedupe(text)
            if not key:
                continue
            into.setdefault(key, []).append(label)
            # Prefer the UCI wording when both have it: Mishra & Soni's copy lost some characters (U+FFFD).
            if key not in texts or (into is uci_labels and "\ufffd" in texts[key]):
                texts[key] = text
    examples: list[Example] = []
    in_both = conflicts = 0
    for key in sorted(texts):
        m, u = mishra_labels.get(key), uci_labels.get(key)
        if m and u:
            in_both += 1
            label = _vote(m)
            conflicts += label != _vote(u)
            source = "both"
        elif m:
            label, source = _vote(m), "mishra"
        else:
            label, source = _vote(u or []), "uci"
        examples.append(Example(text=texts[key].strip(), label=label, source=source))
    stats = DedupeStats(
        uci_rows=len(uci),
        mishra_rows=len(mishra),
        merged=len(examples),
        in_both=in_both,
        label_conflicts=conflicts,
        by_label=dict(sorted(Counter(e.label for e in examples).items())),
    )
    return examples, stats


def load_training_examples(data_dir: str | os.PathLike[str]) -> tuple[list[Example], DedupeStats]:
    sms_dir = resolve_sms_dir(data_dir)
    return merge_and_dedupe(read_uci(sms_dir), read_mishra(sms_dir))


def split_examples(
    examples: list[Example], *, seed: int, test_size: float = 0.2
) -> tuple[list[Example], list[Example]]:
    """A stratified, seeded split: the same examples and seed always give the same two lists."""
    from sklearn.model_selection import train_test_split  # sklearn is slow to import: only when training

    labels = [e.label for e in examples]
    train, test = train_test_split(examples, test_size=test_size, random_state=seed, stratify=labels)
    return list(train), list(test)
