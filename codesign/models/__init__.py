"""Database tables (SQLModel), one module per area. Tables only: reads live in queries/,
writes in services/. Times are timezone-aware UTC (`utcnow()`)."""

from codesign.models.accounts import *  # noqa: F403
from codesign.models.core import *  # noqa: F403
from codesign.models.evidence import *  # noqa: F403
from codesign.models.framework import *  # noqa: F403
from codesign.models.panels import *  # noqa: F403
from codesign.models.rounds import *  # noqa: F403
