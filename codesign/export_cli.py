"""``codesign export``: write a frozen framework version as Appendix A.

    codesign export VERSION_ID [--format docx|pdf|xlsx|csv|json|fhir] [--out FILE]

The snapshot comes from a loader the caller supplies (the command wires in the database one),
so this module needs no database. Exit status 0 on success; 2 with a one-line message on stderr
when the version is missing or not frozen, or the file cannot be written; 1 when the stored
snapshot does not match its SHA-256.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from codesign.export import FORMATS, export, filename

BAD_INPUT = 2
CORRUPT = 1

SnapshotLoader = Callable[[int], tuple[dict[str, Any], str]]


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``codesign export`` arguments to `parser` (a subcommand parser)."""
    parser.add_argument("version_id", metavar="VERSION_ID", type=int, help="framework version id")
    parser.add_argument("--format", choices=list(FORMATS), default="docx", help="file format (default: docx)")
    parser.add_argument("--out", metavar="FILE",
                        help="file to write (default: appendix-a-<population group>-v<N>.<format> here)")


def run_export(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, load_snapshot: SnapshotLoader,
               *, fhir_base: str = "") -> int:
    """Load version `args.version_id` with `load_snapshot`, write it in `args.format` to `args.out`.

    `load_snapshot` returns (snapshot, sha256) or raises LookupError with a message for the user.
    `fhir_base` is the FHIR export's canonical base (Settings.fhir_base_url; "" for urn:uuid: names).
    The file is written to a temporary name beside it and renamed, so a failure leaves no half file.
    """
    try:
        snapshot, sha256 = load_snapshot(args.version_id)
    except LookupError as exc:
        print(f"codesign export: {exc.args[0] if exc.args else exc}", file=stderr)
        return BAD_INPUT
    out = Path(args.out) if args.out else Path(filename(snapshot, args.format))
    directory = out.parent if str(out.parent) else Path(".")
    tmp_name = ""
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.")
        with os.fdopen(fd, "wb") as tmp:
            export(snapshot, sha256, args.format, tmp, fhir_base=fhir_base)
        mask = os.umask(0)  # mkstemp makes 0600 files; give the result the usual mode
        os.umask(mask)
        os.chmod(tmp_name, 0o666 & ~mask)
        os.replace(tmp_name, out)
    except ValueError as exc:  # the snapshot does not match its hash: never publish it
        _remove(tmp_name)
        print(f"codesign export: version {args.version_id}: {exc}", file=stderr)
        return CORRUPT
    except OSError as exc:
        _remove(tmp_name)
        print(f"codesign export: cannot write {out}: {exc.strerror or exc}", file=stderr)
        return BAD_INPUT
    size = out.stat().st_size
    print(f"Wrote {out} ({size} bytes, sha256 {sha256})", file=stdout)
    return 0


def _remove(name: str) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
