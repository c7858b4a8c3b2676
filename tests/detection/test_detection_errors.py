"""Issue 12, items 1 and 3: the brands' failure lives in detection's own errors.py (moved from reports)."""

from __future__ import annotations

from smishguard.detection import errors as detection_errors
from smishguard.reports import errors as reports_errors


def test_the_detection_errors_live_in_detection_errors():
    for name in ("InvalidBrand",):
        assert getattr(detection_errors, name).__module__ == "smishguard.detection.errors", name
        assert not hasattr(reports_errors, name), name  # one failure, one class
    assert detection_errors.InvalidBrand.code == "invalid_brand"
