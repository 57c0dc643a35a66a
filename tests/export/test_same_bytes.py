"""A zipped export (DOCX, XLSX) of one snapshot is the same bytes whenever it is rendered.

The libraries date each zip entry by the clock (zipfile's time.time) and openpyxl writes the time
of saving into core.xml, so these tests move those clocks between two renders instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest

from codesign.export import FORMATS, export
from codesign.export._zip import fixed_zip, frozen_time
from tests.export.clock import A_SECOND_LATER, ONE, set_clock
from tests.export.snapshots import example, with_hash
from tests.export.test_evidence_appendix import linked

DCTERMS = "http://purl.org/dc/terms/"
ZIPPED = [fmt for fmt, spec in FORMATS.items() if spec.zipped]
Clock = Callable[[dt.datetime], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return lambda moment: set_clock(monkeypatch, moment)


def render(snapshot: dict[str, Any], sha256: str, fmt: str) -> bytes:
    out = io.BytesIO()
    export(snapshot, sha256, fmt, out)
    return out.getvalue()


def test_the_zipped_formats_are_docx_and_xlsx() -> None:
    assert ZIPPED == ["docx", "xlsx"]


@pytest.mark.parametrize("fmt", ZIPPED)
def test_two_renders_a_second_apart_are_the_same_bytes(fmt: str, clock: Clock) -> None:
    snapshot, sha = linked()  # with an indicator's chart, so the DOCX holds a picture too
    clock(ONE)
    first = render(snapshot, sha, fmt)
    clock(A_SECOND_LATER)
    assert render(snapshot, sha, fmt) == first
    clock(dt.datetime(2027, 6, 30, 23, 59, 59, tzinfo=dt.UTC))
    assert render(snapshot, sha, fmt) == first


@pytest.mark.parametrize("fmt", ZIPPED)
def test_entries_and_core_properties_carry_the_frozen_time(fmt: str, clock: Clock) -> None:
    snapshot, sha = with_hash(example())
    assert snapshot["framework"]["frozen_at"] == "2026-11-22T10:15:00Z"
    clock(ONE)
    with zipfile.ZipFile(io.BytesIO(render(snapshot, sha, fmt))) as archive:
        infos = archive.infolist()
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {(2026, 11, 22, 10, 15, 0)}
    assert {(i.create_system, i.external_attr, i.compress_type) for i in infos} == {(3, 0o644 << 16, zipfile.ZIP_DEFLATED)}
    dates = {e.tag.rsplit("}", 1)[1]: e.text for e in ElementTree.fromstring(core)
             if e.tag in (f"{{{DCTERMS}}}created", f"{{{DCTERMS}}}modified")}
    assert dates == {"created": "2026-11-22T10:15:00Z", "modified": "2026-11-22T10:15:00Z"}


def test_fixed_zip_keeps_every_entry_and_depends_only_on_them() -> None:
    def archive(order: list[str], when: tuple[int, ...]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name in order:
                z.writestr(zipfile.ZipInfo(name, date_time=when), f"<{name}/>")
        return out.getvalue()

    names = ["word/document.xml", "[Content_Types].xml", "_rels/.rels", "docProps/core.xml"]
    at = frozen_time({"framework": {"frozen_at": "2026-11-22T10:15:00Z"}})
    one = fixed_zip(archive(names, (2026, 1, 1, 0, 0, 0)), at)
    assert fixed_zip(archive(names[::-1], (2027, 2, 2, 2, 2, 2)), at) == one
    with zipfile.ZipFile(io.BytesIO(one)) as z:
        assert z.namelist() == ["[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "word/document.xml"]
        assert all(z.read(n) == f"<{n}/>".encode() for n in names)


@pytest.mark.parametrize(("frozen_at", "expected"), [
    ("2026-11-22T10:15:00Z", dt.datetime(2026, 11, 22, 10, 15, tzinfo=dt.UTC)),
    ("2026-11-22T10:15:00.123456+01:00", dt.datetime(2026, 11, 22, 9, 15, tzinfo=dt.UTC)),
    ("2026-11-22T10:15:00", dt.datetime(2026, 11, 22, 10, 15, tzinfo=dt.UTC)),
    ("", dt.datetime(1980, 1, 1, tzinfo=dt.UTC)),
    ("not a time", dt.datetime(1980, 1, 1, tzinfo=dt.UTC)),
    ("1970-01-01T00:00:00Z", dt.datetime(1980, 1, 1, tzinfo=dt.UTC)),
])
def test_frozen_time(frozen_at: str, expected: dt.datetime) -> None:
    assert frozen_time({"framework": {"frozen_at": frozen_at}}) == expected
