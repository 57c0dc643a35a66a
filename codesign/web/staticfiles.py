"""Static files with long-lived caching: vendored names carry versions, our own URLs a ?v= hash."""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

YEAR = 365 * 24 * 3600


class CachedStaticFiles(StaticFiles):
    def __init__(self, *, directory: str | os.PathLike[str], max_age: int = YEAR, immutable: bool = True) -> None:
        super().__init__(directory=directory)
        self.max_age = max_age
        self.immutable = immutable

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"") or "/vendor/" in str(full_path)
        if versioned and self.immutable:
            response.headers["Cache-Control"] = f"public, max-age={self.max_age}, immutable"
        else:
            response.headers["Cache-Control"] = f"public, max-age={min(self.max_age, 3600)}"
        return response
