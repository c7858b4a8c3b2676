"""API-token scopes come from the registry the apps fill in their AppConfig.ready() (accounts.scopes): the same
scopes, in the same order, as the list accounts.models.ApiToken.SCOPES held before issue 12; issuing a token
(CLI and console, both through accounts.tokens.issue) checks against it."""

from __future__ import annotations

import re

import pytest

from smishguard.accounts import scopes, tokens
from smishguard.accounts.errors import InvalidToken
from smishguard.accounts.models import ApiToken

BEFORE = ("scan", "reports", "blocklists", "reports:attribute")  # ApiToken.SCOPES before the registry


def test_the_same_scopes_in_the_same_order_as_before():
    assert scopes.names() == BEFORE
    assert scopes.get("reports:attribute").requires == "reports"
    assert all(s.description for s in scopes.all_scopes())


def test_the_console_offers_them_in_that_order(admin, login):
    html = login(admin).get("/console/tokens").content.decode()
    offered = re.findall(r'<input type="checkbox" name="scopes" value="([^"]+)"', html)
    assert tuple(offered) == BEFORE


def test_issuing_checks_against_the_registry(db):
    with pytest.raises(InvalidToken, match="scopes must be some of scan, reports, blocklists, reports:attribute"):
        tokens.issue("future", scopes=["simulations"])
    scopes.register("simulations", description="a later app's endpoint")
    try:
        row, _ = tokens.issue("future", scopes=["simulations"])
        assert row.scopes == ["simulations"]
    finally:
        scopes.unregister("simulations")
    with pytest.raises(InvalidToken, match="scopes must be some of"):
        tokens.issue("future again", scopes=["simulations"])
    assert ApiToken.objects.count() == 1


def test_the_cli_checks_against_the_registry_too(db, capsys):
    from smishguard.cli import main

    assert main(["tokens", "issue", "nope", "--scope", "simulations"]) != 0
    _, err = capsys.readouterr()
    assert "scopes must be some of scan, reports, blocklists, reports:attribute" in err
    assert not ApiToken.objects.exists()


def test_a_scope_that_widens_another_goes_with_it(db):
    with pytest.raises(InvalidToken, match="the reports:attribute scope goes with the reports scope: give both"):
        tokens.issue("lonely", scopes=["reports:attribute"])


def test_a_scope_is_registered_once():
    scopes.register("scan", description=scopes.get("scan").description)  # a second ready(): nothing changes
    assert scopes.names() == BEFORE
    with pytest.raises(ValueError, match="already registered differently"):
        scopes.register("scan", description="something else")
    with pytest.raises(ValueError, match="requires 'nothing'"):
        scopes.register("orphan", description="x", requires="nothing")
    assert scopes.names() == BEFORE
