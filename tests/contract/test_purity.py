"""codesign/contract stays pure: no web, database or template imports."""

from __future__ import annotations

import ast
from pathlib import Path

import codesign.contract

FORBIDDEN = ("starlette", "sqlmodel", "sqlalchemy", "jinja2", "codesign.models", "codesign.web", "codesign.queries")


def test_contract_package_imports_nothing_impure() -> None:
    folder = Path(codesign.contract.__file__).parent
    for file in folder.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{file.name} imports {name}"
