"""Reads: get_/list_/count_ functions taking a database session. Nothing here writes."""

from codesign.queries.accounts import *  # noqa: F403
from codesign.queries.ballot_rows import *  # noqa: F403
from codesign.queries.basic import *  # noqa: F403
from codesign.queries.definition_evidence import *  # noqa: F403
from codesign.queries.evidence import *  # noqa: F403
from codesign.queries.framework import *  # noqa: F403
from codesign.queries.overview import *  # noqa: F403
from codesign.queries.people import *  # noqa: F403
from codesign.queries.progress import *  # noqa: F403
from codesign.queries.public import *  # noqa: F403
from codesign.queries.reasons import *  # noqa: F403
from codesign.queries.room import *  # noqa: F403
from codesign.queries.round_console import *  # noqa: F403
from codesign.queries.round_control import *  # noqa: F403
from codesign.queries.rounds import *  # noqa: F403
from codesign.queries.snapshot import *  # noqa: F403
from codesign.queries.voting_page import *  # noqa: F403
