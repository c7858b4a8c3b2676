"""Tile paths (c2sp.org/tlog-tiles, static-ct-api)."""

from __future__ import annotations

import pytest

from smishguard.engine.ct import data_tile_path, parse_tile_index_path, tile_index_path


@pytest.mark.parametrize(
    ("n", "path"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_tile_index_paths_round_trip(n: int, path: str) -> None:
    assert tile_index_path(n) == path
    assert parse_tile_index_path(path) == n


@pytest.mark.parametrize(("n", "width", "path"), [(0, 256, "tile/data/000"), (273, 112, "tile/data/273.p/112")])
def test_data_tile_paths(n: int, width: int, path: str) -> None:
    assert data_tile_path(n, width) == path


@pytest.mark.parametrize("bad", ["", "1/000", "x1/000", "x001/00", "001/000", "x001/x00a/000", "abc"])
def test_malformed_tile_paths(bad: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_tile_index_path(bad)


@pytest.mark.parametrize(("n", "width"), [(-1, 256), (0, 0), (0, 257)])
def test_bad_tile_arguments(n: int, width: int) -> None:
    with pytest.raises(ValueError, match=r"negative|between"):
        data_tile_path(n, width)
