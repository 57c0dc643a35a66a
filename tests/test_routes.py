"""The app's routes: no two answer the same address and method (the second would never be reached)."""

from __future__ import annotations

from collections import Counter

from starlette.routing import Route

from codesign.routes import all_routes


def test_no_two_routes_share_a_path_and_method() -> None:
    pairs = Counter((r.path, method) for r in all_routes if isinstance(r, Route) for method in (r.methods or ()))
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_every_route_has_a_unique_name() -> None:
    names = Counter(r.name for r in all_routes if isinstance(r, Route))
    assert [name for name, n in names.items() if n > 1] == []
