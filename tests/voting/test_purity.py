"""codesign.voting must stay pure: no web, database or template imports (DESIGN section 7)."""

from __future__ import annotations

import ast
from pathlib import Path

import codesign.voting

FORBIDDEN = {"starlette", "sqlmodel", "sqlalchemy", "jinja2", "alembic", "uvicorn", "httpx"}
PACKAGE = Path(codesign.voting.__file__).parent


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_walker_sees_every_kind_of_import() -> None:
    source = "import starlette.routing\nfrom sqlmodel import Session\ndef f():\n    import jinja2\n"
    assert imported_roots(source) == {"starlette", "sqlmodel", "jinja2"}


def test_voting_package_imports_no_web_db_or_template_code() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 10
    offenders = {path.name: sorted(imported_roots(path.read_text(encoding="utf-8")) & FORBIDDEN) for path in modules}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_voting_imports_only_itself_within_codesign() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("codesign"):
                assert node.module.startswith("codesign.voting"), (path.name, node.module)


def test_modules_stay_small() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 350, path.name
