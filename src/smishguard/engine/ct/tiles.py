"""Tile paths of c2sp.org/tlog-tiles and c2sp.org/static-ct-api."""

from __future__ import annotations

TILE_WIDTH = 256


def tile_index_path(n: int) -> str:
    """Encode a tile index as 3-digit path elements, all but the last prefixed ``x``: 1234067 → x001/x234/067."""
    if n < 0:
        raise ValueError(f"tile index {n} is negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def data_tile_path(n: int, width: int = TILE_WIDTH) -> str:
    """``tile/data/<N>`` for a full tile, ``tile/data/<N>.p/<W>`` for a partial one of width ``W``."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is not between 1 and {TILE_WIDTH}")
    path = f"tile/data/{tile_index_path(n)}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


def parse_tile_index_path(path: str) -> int:
    """The inverse of :func:`tile_index_path`; raises ``ValueError`` for a malformed path."""
    parts = path.split("/")
    if not parts or any(len(p) != 4 or p[0] != "x" or not p[1:].isdigit() for p in parts[:-1]):
        raise ValueError(f"malformed tile index path {path!r}")
    last = parts[-1]
    if len(last) != 3 or not last.isdigit():
        raise ValueError(f"malformed tile index path {path!r}")
    n = 0
    for part in parts:
        n = n * 1000 + int(part.lstrip("x"))
    return n
