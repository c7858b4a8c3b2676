"""The counts scripts/test compares: the tests that run in both modes, and apart from them the load, fault and
fuzzing tests (``@pytest.mark.once``), which run once, in production mode (tests/support/counting.py)."""

from types import SimpleNamespace

import counting
import modes


def _report(name: str, *markers: str) -> SimpleNamespace:
    # What pytest's TestReport and Item carry that counting reads: the keywords (names and markers).
    return SimpleNamespace(keywords={name: 1, **dict.fromkeys(markers, 1)})


def test_the_once_marker_is_registered(pytestconfig):
    assert any(line.startswith("once:") for line in pytestconfig.getini("markers"))


def test_items_split_into_both_modes_and_production_mode_only_in_order():
    items = [_report("a"), _report("b", "once"), _report("c", "integration"), _report("d", "once", "integration")]
    both, once = counting.split_once(items)
    assert [next(iter(i.keywords)) for i in both] == ["a", "c"]
    assert [next(iter(i.keywords)) for i in once] == ["b", "d"]


def test_a_production_mode_run_counts_the_once_tests_apart():
    stats = {
        "passed": [_report("a"), _report("b"), _report("f1", "once"), _report("f2", "once")],
        "failed": [_report("c")],
        "error": [_report("c")],  # c's teardown failed too: an error is not a second test
        "skipped": [],
    }
    counts = counting.count("postgres", stats)
    assert (counts.both_total, counts.once_total, counts.deselected_once) == (3, 2, 0)
    assert counts.count_file_line() == "3 2 2\n"
    assert counts.summary() == (
        "tests in postgres mode: 3 in both modes + 2 production-mode only (4 passed, 1 failed, 1 error, 0 skipped)"
    )


def test_a_sqlite_run_deselects_the_once_tests_and_says_so():
    stats = {"passed": [_report("a"), _report("b")], "deselected": [_report("f1", "once"), _report("x")]}
    counts = counting.count("sqlite", stats)
    assert counts.count_file_line() == "2 2 0\n"
    assert counts.summary() == (
        "tests in sqlite mode: 2 in both modes + 0 production-mode only (2 passed, 0 failed, 0 error, 0 skipped); "
        "1 production-mode-only tests deselected here (@pytest.mark.once)"
    )


def test_this_run_deselects_the_once_tests_only_in_sqlite_mode(request):
    # This test itself runs in both modes; what the collection hook did with the marked items depends on the mode.
    session_items = request.session.items
    marked = [item for item in session_items if counting.is_once(item)]
    if modes.POSTGRES:
        assert all(not item.get_closest_marker("skip") for item in marked)
    else:
        assert marked == []
