"""The lookalike evaluation set was frozen before the matcher's second pass (issue 15): additions only."""

import lookalike_eval


def test_every_frozen_entry_is_still_there_unchanged() -> None:
    current = lookalike_eval.current_entries()
    missing = [d for d in lookalike_eval.frozen_digests() if d not in current]
    assert not missing, f"{len(missing)} frozen entries were changed or removed: the set may only grow"


def test_the_frozen_set_covers_the_fifty_brands_and_every_form() -> None:
    labels = list(lookalike_eval.current_entries().values())
    assert sum(label.startswith("brands_50.toml: brand ") for label in labels) >= 50
    forms = lookalike_eval.read_forms()
    assert {label for _, label, _ in forms} == {"phish", "clear"}
    assert len(lookalike_eval.frozen_digests()) >= 50 + 10 + len(forms)
