"""Key roll-out coverage: the figures, overall and by department, and the chart page."""

from __future__ import annotations

import pytest

from smishguard.accounts import services
from smishguard.passkeys.coverage import NO_DEPARTMENT, key_coverage


@pytest.fixture
def org(db, add_key):
    def person(email, department, *, keys=0, revoked=0, flagged=0, status="active"):
        e = services.add_employee(email=email, name=email.split("@")[0].title(), department=department)
        for _ in range(keys):
            add_key(e)
        for _ in range(revoked):
            add_key(e, revoked=True)
        for _ in range(flagged):
            add_key(e, flagged=True)
        if status == "suspended":
            services.suspend(e)
        elif status == "offboarded":
            services.offboard(e)
        return e

    # Support: 4 active; 3 with >= 1 usable key, 1 with >= 2.
    person("a@example.com", "Support", keys=2)
    person("b@example.com", "Support", keys=1)
    person("c@example.com", "Support", keys=1, revoked=2)  # revoked keys do not count
    person("d@example.com", "Support", flagged=1)  # a flagged key does not count
    # Engineering: 2 active, both with two keys; a suspended and an offboarded one are left out.
    person("e@example.com", "Engineering", keys=2)
    person("f@example.com", "Engineering", keys=3)
    person("g@example.com", "Engineering", keys=2, status="suspended")
    person("h@example.com", "Engineering", keys=2, status="offboarded")
    # No department: 1 active, no key.
    person("i@example.com", "")


def test_coverage_figures(org):
    cov = key_coverage()
    rows = {r.label: (r.active, r.with_one, r.with_two) for r in cov.departments}
    assert rows == {"Engineering": (2, 2, 2), "Support": (4, 3, 1), NO_DEPARTMENT: (1, 0, 0)}
    assert (cov.overall.active, cov.overall.with_one, cov.overall.with_two) == (7, 5, 3)
    assert cov.overall.without == 2
    assert round(cov.overall.pct_one, 1) == 71.4
    assert round(cov.overall.pct_two, 1) == 42.9
    support = next(r for r in cov.departments if r.label == "Support")
    assert support.pct_one == 75.0
    assert support.pct_two == 25.0
    assert cov.to_dict()["overall"]["pct_one"] == 71.4


def test_coverage_with_no_one_is_zero_not_an_error(db):
    cov = key_coverage()
    assert cov.departments == ()
    assert cov.overall.pct_one == 0.0


def test_coverage_page_shows_the_chart(org, login):
    admin = services.add_employee(email="boss@example.com", name="Boss", department="Support", is_admin=True)
    text = login(admin).get("/console/coverage").content.decode()
    # Support now has 5 active (the admin has no key): 3/5 with a key, 1/5 with two.
    assert 'aria-label="Support: 60% with a key, 20% with a backup"' in text
    assert '<rect class="bar bar-one" width="60.0" height="2"/>' in text  # out of the SVG's 100
    assert '<rect class="bar bar-two" y=".5" width="20.0" height="1"/>' in text
    assert 'aria-label="Engineering: 100% with a key, 100% with a backup"' in text
    assert "Overall: 62% with a key, 38% with a backup" in text  # 5/8 and 3/8
