"""Comparing the answers of two text models (issue 10: tests that pass on any machine).

Labels are compared exactly; probabilities within ``PROBABILITY_TOLERANCE``.  Training the same model on another
CPU gives probabilities that differ in the sixth digit (other BLAS kernels, e.g. AVX-512, sum in another order),
so exact equality fails there.  The tolerance still tells another model apart by a wide margin: a model fitted
on the same training split less its last three examples (``nearby_model`` in tests/engine/sms/conftest.py) moves
some held-out probability by about 0.07, some 700 times the tolerance; the tests assert a margin of 100 times.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PROBABILITY_TOLERANCE = 1e-4
MARGIN = 100  # another model differs by more than MARGIN * PROBABILITY_TOLERANCE


def largest_difference(a, b, texts: Sequence[str]) -> float:
    """The largest difference between two models' probabilities over ``texts`` (every class)."""
    return float(np.abs(a.probabilities(texts) - b.probabilities(texts)).max())


def assert_same_answers(expected, actual, texts: Sequence[str]) -> None:
    """The same label for every text, and every probability within the tolerance."""
    assert [p.label for p in actual.predict(texts)] == [p.label for p in expected.predict(texts)]
    np.testing.assert_allclose(
        actual.probabilities(texts), expected.probabilities(texts), rtol=0, atol=PROBABILITY_TOLERANCE
    )


def assert_tolerance_tells_apart(model, other, texts: Sequence[str]) -> None:
    """``other`` (a model trained on other data) differs from ``model`` by far more than the tolerance."""
    difference = largest_difference(model, other, texts)
    assert difference > MARGIN * PROBABILITY_TOLERANCE, (
        f"another model differs by only {difference:.2g}: the tolerance {PROBABILITY_TOLERANCE} would not catch it"
    )
