"""Digests of the lookalike evaluation set as frozen before the matcher's second pass (issue 15).

``frozen_entries()`` lists what ``FROZEN`` pins: every brand of tests/engine/domains/brands_50.toml and of
eval/brands.toml (name, official domains, tokens) and every labelled line of eval/forms.tsv.  The test
(test_domains_eval_frozen.py) checks that each pinned entry is still there, unchanged: the set may grow (each
addition with a reason), never be edited to suit the matcher.  ``python tests/support/lookalike_eval.py``
prints the digests of today's files (only to pin an addition).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from smishguard.engine.domains import load_brand_config

REPO = Path(__file__).resolve().parents[2]
DOMAINS_TESTS = REPO / "tests" / "engine" / "domains"
HERE = DOMAINS_TESTS / "eval"
BRANDS_50 = DOMAINS_TESTS / "brands_50.toml"
FORMS = HERE / "forms.tsv"
EVAL_BRANDS = HERE / "brands.toml"
FROZEN = HERE / "FROZEN"


def _digest(kind: str, value: object) -> str:
    text = json.dumps([kind, value], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def current_entries() -> dict[str, str]:
    """digest -> a readable label, for every entry of today's files."""
    out: dict[str, str] = {}
    for path in (BRANDS_50, EVAL_BRANDS):
        brands, keywords = load_brand_config(path)
        for b in brands:
            out[_digest(path.name, [b.name, list(b.domains), list(b.tokens)])] = f"{path.name}: brand {b.name}"
        out[_digest(path.name + ":keywords", keywords)] = f"{path.name}: keywords"
    for line in FORMS.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            domain, label = line.split("\t")[:2]
            out[_digest("forms", [domain, label])] = f"forms.tsv: {domain} {label}"
    return out


def read_forms() -> list[tuple[str, str, str]]:
    """(domain, label, form) of each labelled line of eval/forms.tsv."""
    rows = []
    for line in FORMS.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            domain, label, form = line.split("\t")[:3]
            rows.append((domain, label, form))
    return rows


def frozen_digests() -> list[str]:
    return [ln.split()[0] for ln in FROZEN.read_text("utf-8").splitlines() if ln and not ln.startswith("#")]


if __name__ == "__main__":
    for digest, label in current_entries().items():
        print(digest, label)
