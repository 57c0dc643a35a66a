"""The same bytes for the same snapshot: rewrite a zip-based export (DOCX, XLSX) as a fixed archive.

python-docx and openpyxl stamp every zip entry with the clock at the moment of saving, and
openpyxl also writes the current time into docProps/core.xml's `dcterms:modified` (whatever the
workbook's properties said). Two renders a second apart then differ, although the XML inside is
the same, and a stored export's SHA-256 (audited, and checked on every download) could never be
reproduced from its snapshot. So every zipped format passes through `fixed_zip` (once, in
`codesign.export.export`): entries in a fixed order, each dated by the snapshot's frozen time,
with the same attributes and compression, and core.xml's created and modified set to that time.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

CONTENT_TYPES = "[Content_Types].xml"  # OPC readers look for it first, so it stays first
CORE = "docProps/core.xml"
EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry
_CORE_DATE = re.compile(r"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def frozen_time(snapshot: Mapping[str, Any]) -> datetime:
    """When the version was frozen (UTC), the one time a render of it may carry; 1980-01-01 when
    the snapshot does not say (an old or hand-made one), so that it is fixed all the same."""
    raw = str((snapshot.get("framework") or {}).get("frozen_at") or "")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return max(when, EPOCH).replace(microsecond=0)


def _order(name: str) -> tuple[int, str]:
    return (0 if name == CONTENT_TYPES else 1, name)


def _core(xml: bytes, when: datetime) -> bytes:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _CORE_DATE.sub(lambda m: f"{m.group(1)}{stamp}{m.group(3)}", xml.decode("utf-8")).encode("utf-8")


def fixed_zip(data: bytes, when: datetime) -> bytes:
    """`data` (a zip archive) rewritten so that it depends only on its entries' names and contents:
    sorted ([Content_Types].xml first), each dated `when` (UTC), no platform-dependent attributes,
    deflated at one level; core.xml's created and modified say `when` too."""
    stamp = when.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        names = [i.filename for i in source.infolist()]
        if len(set(names)) != len(names):
            raise ValueError("a zip export has two entries with one name")
        for name in sorted(names, key=_order):
            blob = source.read(name)
            if name == CORE:
                blob = _core(blob, when)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # ZipInfo's default is the platform's (3 on Linux, 0 on Windows)
            info.external_attr = 0o644 << 16  # a plain file, rw-r--r--, whoever renders it
            target.writestr(info, blob, compresslevel=6)
    return out.getvalue()
