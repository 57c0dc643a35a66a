"""The seeded world as fixtures, for browser test modules that want it: seeded once per module
into a database each test copies (as the suite copies its migrated one). A module takes them with
`from tests.browser.world_fixtures import seeded_world, world_copy, world_template` (the
fixtures are named `world` and `database_url`, so a test asks for those)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codesign import db
from codesign.config import Settings
from tests.browser.world import World, seed_world
from tests.conftest import PG_URL, as_template, copy_of_database


@pytest.fixture(scope="module")
def world_template(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """The world seeded once, into a database each test copies."""
    with copy_of_database(template_database, tmp_path_factory.mktemp("world")) as url:
        engine = db.make_engine(Settings(database_url=url, env="test"))
        world = seed_world(engine)
        if not PG_URL:  # everything in the main file, so a plain copy of it is complete
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield as_template(url), world


@pytest.fixture(name="database_url")
def world_copy(world_template: tuple[str, World], tmp_path: Path) -> Iterator[str]:
    """Each test its own copy of the seeded world (tests write: people join and vote)."""
    with copy_of_database(world_template[0], tmp_path) as url:
        yield url


@pytest.fixture(name="world")
def seeded_world(world_template: tuple[str, World]) -> World:
    return world_template[1]
