"""The lookalike matcher measured on the frozen evaluation set: recall, false positives, and the curve over scores.

    .venv/bin/python bench/eval_domains.py [--data DIR] [--list] [--json FILE] [--min-score X]

Three measurements, each with the brands its data was made for:

1. **Recall on the 2022 Oktapus wave**: the 174 real phishing domains of ../shared/data/domains/oktapus_2022.txt,
   with the 53 brands of oktapus_brands.toml (the organisations the wave imitated, as their teams would
   configure them).
2. **Our own labelled forms**: tests/engine/domains/eval/forms.tsv (made-up companies, eval/brands.toml): each
   form of issue 15, and the precision guards (ordinary-word brands, short tokens, brand letters inside words).
3. **False positives on popular domains**: the 50,000 Tranco domains of ranks 50,001-100,000 with our 50-brand
   list (tests/engine/domains/brands_50.toml): what is flagged there is almost all false positive.

The evaluation set was frozen before the matcher's second pass (tests/engine/domains/eval/FROZEN; additions
only).  ``--min-score`` draws the line where ``domains check --min-score`` would; the curve lists recall and
false positives at each line from 0.5 to 0.95.  The shared data directory is $SMISHGUARD_SHARED_DATA if set,
else the "shared/data" folder beside the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from smishguard.engine.domains import DomainResult, InvalidDomain, LookalikeMatcher, load_brand_config

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "support"))

import lookalike_eval  # noqa: E402 - tests/support is on the path now

from shared import read_domains, shared_data  # noqa: E402 - bench/ is the script's own folder

LINES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def run(matcher: LookalikeMatcher, domains: list[str]) -> list[DomainResult | None]:
    return [None if isinstance(r, InvalidDomain) else r for r in matcher.check_many(domains)]


def flagged(result: DomainResult | None, line: float) -> bool:
    return result is not None and result.verdict == "lookalike" and result.score >= line


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="the shared data directory")
    ap.add_argument("--min-score", type=float, default=0.0, help="where 'lookalike' starts (default: any score)")
    ap.add_argument("--list", action="store_true", help="print each miss and each false positive")
    ap.add_argument("--json", default=None, help="write the figures and the curve to this file")
    args = ap.parse_args()
    data = Path(args.data) if args.data else shared_data()

    oktapus = read_domains(data / "domains" / "oktapus_2022.txt")
    m_okt = LookalikeMatcher(*load_brand_config(data / "domains" / "oktapus_brands.toml"))
    r_okt = run(m_okt, oktapus)

    forms = lookalike_eval.read_forms()
    m_forms = LookalikeMatcher(*load_brand_config(lookalike_eval.EVAL_BRANDS))
    r_forms = run(m_forms, [d for d, _, _ in forms])

    tranco = read_domains(data / "domains" / "tranco_ranks_50001_100000.txt")
    m_fp = LookalikeMatcher(*load_brand_config(lookalike_eval.BRANDS_50))
    r_fp = run(m_fp, tranco)

    line = args.min_score
    caught = sum(flagged(r, line) for r in r_okt)
    phish = [(r, f) for r, (_, label, f) in zip(r_forms, forms, strict=True) if label == "phish"]
    clear = [(r, f) for r, (_, label, f) in zip(r_forms, forms, strict=True) if label == "clear"]
    forms_caught = sum(flagged(r, line) for r, _ in phish)
    forms_wrong = sum(flagged(r, line) for r, _ in clear)
    fps = [r for r in r_fp if flagged(r, line)]

    print(f"line: score >= {line}")
    print(f"2022 Oktapus wave: {caught}/{len(oktapus)} caught = {caught / len(oktapus):.1%} (target >= 97%)")
    print(f"own forms: {forms_caught}/{len(phish)} lookalikes caught; {forms_wrong}/{len(clear)} clear ones flagged")
    print(f"Tranco 50,001-100,000: {len(fps)}/{len(tranco)} flagged = {len(fps) / len(tranco):.3%} (ceiling 0.1%)")
    curve = []
    for x in LINES:
        c = sum(flagged(r, x) for r in r_okt)
        f = sum(flagged(r, x) for r in r_fp)
        curve.append({"min_score": x, "recall_2022": round(c / len(oktapus), 4), "caught": c, "flagged_tranco": f})
    print("curve (min score: 2022 recall, Tranco flagged):")
    for p in curve:
        print(f"  {p['min_score']:.2f}: {p['recall_2022']:.1%} ({p['caught']}), {p['flagged_tranco']}")
    if args.list:
        print("missed in the 2022 wave:")
        for d, r in zip(oktapus, r_okt, strict=True):
            if not flagged(r, line):
                print(f"  {d}\t{r.verdict if r else 'invalid'}")
        print("own forms judged wrongly:")
        for (d, label, form), r in zip(forms, r_forms, strict=True):
            if flagged(r, line) != (label == "phish"):
                print(f"  {d}\t{label}\t{form}\t{r.techniques if r else 'invalid'}")
        print("flagged on Tranco:")
        for r in fps:
            print(f"  {r.domain}\t{r.brand}\t{','.join(r.techniques)}\t{r.score}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "min_score": line,
                    "oktapus_2022": {"caught": caught, "total": len(oktapus)},
                    "forms": {"caught": forms_caught, "phish": len(phish), "flagged_clear": forms_wrong},
                    "tranco": {"flagged": len(fps), "total": len(tranco)},
                    "curve": curve,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
