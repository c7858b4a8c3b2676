"""How the suite is shared between scripts/test's pytest-xdist workers (tests/support/scheduling.py)."""

from types import SimpleNamespace

import pytest
import scheduling


def _items(*nodeids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_the_longest_files_start_first_and_each_file_stays_whole_in_its_order():
    items = _items(
        "tests/accounts/test_a.py::t1",
        "tests/e2e/test_b.py::t1",
        "tests/accounts/test_a.py::t2",
        "tests/faults/test_c.py::t1",
        "tests/e2e/test_b.py::t2",
        "tests/test_backup_restore.py::t",
    )
    scheduling.longest_first(items)
    assert [i.nodeid for i in items] == [
        "tests/faults/test_c.py::t1",
        "tests/e2e/test_b.py::t1",
        "tests/e2e/test_b.py::t2",
        "tests/test_backup_restore.py::t",
        "tests/accounts/test_a.py::t1",
        "tests/accounts/test_a.py::t2",
    ]


def test_two_tests_sharing_a_node_id_stop_the_run_by_name():
    scheduling.own_node_ids(_items("tests/x.py::a", "tests/x.py::b"))  # distinct: nothing said
    with pytest.raises(pytest.UsageError, match=r"tests/x.py::a$"):
        scheduling.own_node_ids(_items("tests/x.py::a", "tests/x.py::b", "tests/x.py::a"))


def test_every_collected_test_has_a_node_id_of_its_own(request):
    """The whole collection as this run made it (schemathesis' operations included, in production mode)."""
    nodeids = [item.nodeid for item in request.session.items]
    assert len(nodeids) == len(set(nodeids))
