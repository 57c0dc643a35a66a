"""Exports of a frozen framework version ("Appendix A: Outcomes framework"), one module per format.

Each writer is a pure function of the snapshot (docs/framework-snapshot.md) and its SHA-256,
writing to a stream: no database, no web code. `export()` picks one by name; `filename()` names
the file, e.g. ``appendix-a-adults-with-diabetes-v1.docx``. A format may take options from the
settings (FHIR: the canonical base); callers pass every option and each format keeps its own.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, NamedTuple, TextIO, cast

from codesign.export._labels import slug
from codesign.export._zip import fixed_zip, frozen_time

Writer = Callable[..., None]  # (snapshot, sha256, stream, **options)


def _lazy(module: str, name: str) -> Writer:
    """A writer imported on first use: importing this package (for canonical.py, say) must not
    load Typst, python-docx and openpyxl, which take about a second."""

    def write(snapshot: Mapping[str, Any], sha256: str, stream: Any, **options: str) -> None:
        getattr(importlib.import_module(module), name)(snapshot, sha256, stream, **options)

    write.__name__ = write.__qualname__ = name
    return write


class ExportFormat(NamedTuple):
    writer: Writer
    media_type: str
    extension: str
    binary: bool  # False: the writer takes a text stream (export() wraps a binary one for it)
    options: tuple[str, ...] = ()  # keyword options the writer takes (others given to export() are not for it)
    zipped: bool = False  # a zip archive (OOXML): export() fixes its timestamps and order (_zip.py)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS: dict[str, ExportFormat] = {
    "docx": ExportFormat(_lazy("codesign.export.docx", "write_docx"), DOCX_TYPE, "docx", True, zipped=True),
    "pdf": ExportFormat(_lazy("codesign.export.pdf", "write_pdf"), "application/pdf", "pdf", True),
    "xlsx": ExportFormat(_lazy("codesign.export.xlsx", "write_xlsx"), XLSX_TYPE, "xlsx", True, zipped=True),
    "csv": ExportFormat(_lazy("codesign.export.csv_", "write_csv"), "text/csv; charset=utf-8", "csv", False),
    "json": ExportFormat(_lazy("codesign.export.json_", "write_json"), "application/json", "json", True),
    "fhir": ExportFormat(_lazy("codesign.export.fhir", "write_fhir"), "application/fhir+json", "fhir.json", True,
                         ("fhir_base",)),
}


def get_format(fmt: str) -> ExportFormat:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})") from None


def export(snapshot: Mapping[str, Any], sha256: str, fmt: str, stream: BinaryIO | TextIO, **options: str) -> None:
    """Write `snapshot` in format `fmt` to `stream`.

    Binary formats need a binary stream. CSV takes either: a binary stream gets UTF-8 text.
    `options` (e.g. fhir_base) go to the formats that take them and are ignored by the others.
    Raises ValueError for an unknown format or a sha256 that is not the snapshot's.
    Every format gives the same bytes for the same snapshot and options, whenever it is rendered.
    """
    spec = get_format(fmt)
    mine = {k: v for k, v in options.items() if k in spec.options}
    is_text = isinstance(stream, io.TextIOBase)
    if spec.binary:
        if is_text:
            raise TypeError(f"{fmt} needs a binary stream")
        if spec.zipped:
            archive = io.BytesIO()
            spec.writer(snapshot, sha256, archive, **mine)
            cast(BinaryIO, stream).write(fixed_zip(archive.getvalue(), frozen_time(snapshot)))
        else:
            spec.writer(snapshot, sha256, stream, **mine)
    elif is_text:
        spec.writer(snapshot, sha256, stream, **mine)
    else:
        text = io.TextIOWrapper(cast(BinaryIO, stream), encoding="utf-8", newline="")
        try:
            spec.writer(snapshot, sha256, text, **mine)
            text.flush()
        finally:
            text.detach()  # leave the caller's stream open


def render(snapshot: Mapping[str, Any], sha256: str, fmt: str, fhir_base: str = "",
           approvals: tuple[dict[str, Any], ...] | None = None) -> bytes:
    """The file as bytes; with `approvals` (even none), its sign-off part says who approved it by now."""
    from codesign.export._signoff import with_sign_off

    buffer = io.BytesIO()
    if approvals is not None:
        snapshot = with_sign_off(snapshot, approvals)
    export(snapshot, sha256, fmt, buffer, fhir_base=fhir_base)
    return buffer.getvalue()


def filename(snapshot: Mapping[str, Any], fmt: str, approvals: int = 0) -> str:
    """`appendix-a-<population group>-v<version>.<ext>`, e.g. appendix-a-adults-with-diabetes-v1.docx;
    an edition that names approvers says how many (`-v1-approved-2.docx`), so a copy saved before an
    approval and one saved after it never share a name."""
    framework = snapshot["framework"]
    name = slug(str(framework["population_group"]["name"]))
    edition = f"-approved-{approvals}" if approvals > 0 else ""
    return f"appendix-a-{name}-v{int(framework['version'])}{edition}.{get_format(fmt).extension}"


__all__ = ["FORMATS", "ExportFormat", "export", "filename", "get_format", "render"]
