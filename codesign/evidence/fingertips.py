"""Fetching indicator data from the Fingertips API (the Office for Health Improvement and
Disparities' public health data), in the same CSV layout as its "indicator data" download, which
`codesign evidence import` reads. Only the address is built here (pure); `evidence_cli` fetches it.

The endpoint is the one the `fingertips_py` package calls (`get_data_by_indicator_ids`):
`all_data/csv/by_indicator_id?indicator_ids=...&child_area_type_id=...&parent_area_type_id=...`.
codesign calls it with the standard library instead of depending on that package: fingertips_py is
GPL-3.0 (codesign is MIT), and on a certificate error it retries with verification turned off,
which an NHS deployment must never do. Area type ids: Fingertips' own (for example 66 for
sub-ICB locations, 221 for ICBs, 402 for upper-tier local authorities); parent 15 is England.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode

DEFAULT_BASE = "https://fingertips.phe.org.uk/api/"
_ID = re.compile(r"^[0-9]{1,9}$")


def data_url(indicators: Sequence[str], area_type: str, parent_area_type: str = "15",
             base: str = DEFAULT_BASE) -> str:
    """The API address of every area's figures for `indicators` at `area_type`. Ids are whole
    numbers (ValueError otherwise: nothing else reaches the address)."""
    if not indicators:
        raise ValueError("give at least one indicator id")
    for value, what in [*((i, "indicator id") for i in indicators), (area_type, "area type id"),
                        (parent_area_type, "parent area type id")]:
        if not _ID.match(value):
            raise ValueError(f"{what} {value!r} is not a whole number")
    query = urlencode({"indicator_ids": ",".join(indicators), "child_area_type_id": area_type,
                       "parent_area_type_id": parent_area_type})
    return f"{base.rstrip('/')}/all_data/csv/by_indicator_id?{query}"
