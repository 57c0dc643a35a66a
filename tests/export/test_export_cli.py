"""``codesign export`` (codesign/export_cli.py) with a fake snapshot loader instead of the database."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codesign.export.canonical import snapshot_sha256
from codesign.export_cli import add_export_arguments, run_export
from tests.export.snapshots import example, with_hash


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="codesign export")
    add_export_arguments(parser)
    return parser.parse_args(argv)


def loader(snapshot: dict[str, Any], sha: str, frozen_id: int = 1) -> Any:
    def load(version_id: int) -> tuple[dict[str, Any], str]:
        if version_id != frozen_id:
            raise LookupError(f"framework version {version_id} does not exist or is not frozen")
        return snapshot, sha

    return load


def run(args: argparse.Namespace, load: Any, **options: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_export(args, out, err, load, **options)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "docx"])
def test_writes_the_file_and_says_so(tmp_path: Path, fmt: str) -> None:
    snapshot, sha = with_hash(example())
    target = tmp_path / f"appendix.{fmt}"
    code, out, err = run(parse("1", "--format", fmt, "--out", str(target)), loader(snapshot, sha))
    assert (code, err) == (0, "")
    size = target.stat().st_size
    assert out == f"Wrote {target} ({size} bytes, sha256 {sha})\n"
    assert size > 0 and [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    if fmt == "json":
        doc = json.loads(target.read_bytes())
        assert doc["sha256"] == sha and snapshot_sha256(doc["snapshot"]) == sha


def test_default_name_and_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    snapshot, sha = with_hash(example())
    args = parse("1")
    assert args.format == "docx"
    code, out, _ = run(args, loader(snapshot, sha))
    assert code == 0
    assert (tmp_path / "appendix-a-adults-with-diabetes-haringey-islington-v1.docx").is_file()
    assert out.startswith("Wrote appendix-a-adults-with-diabetes-haringey-islington-v1.docx (")


def test_fhir_bundle_with_its_default_name_and_the_base_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    snapshot, sha = with_hash(example())
    code, out, err = run(parse("1", "--format", "fhir"), loader(snapshot, sha), fhir_base="https://fhir.example.org/r4")
    assert (code, err) == (0, "")
    written = tmp_path / "appendix-a-adults-with-diabetes-haringey-islington-v1.fhir.json"
    assert out.startswith(f"Wrote {written.name} (") and sha in out
    bundle = json.loads(written.read_bytes())
    assert bundle["resourceType"] == "Bundle" and bundle["id"] == sha
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Measure"] * 4
    assert all(e["fullUrl"].startswith("https://fhir.example.org/r4/Measure/") for e in bundle["entry"])


def test_missing_or_unfrozen_version_exits_2(tmp_path: Path) -> None:
    snapshot, sha = with_hash(example())
    target = tmp_path / "x.json"
    code, out, err = run(parse("7", "--format", "json", "--out", str(target)), loader(snapshot, sha))
    assert (code, out) == (2, "")
    assert err == "codesign export: framework version 7 does not exist or is not frozen\n"
    assert not target.exists()


def test_snapshot_not_matching_its_hash_writes_nothing(tmp_path: Path) -> None:
    snapshot, sha = with_hash(example())
    tampered = {**snapshot, "summary": {**snapshot["summary"], "outcome_count": 99}}
    target = tmp_path / "x.csv"
    code, out, err = run(parse("1", "--format", "csv", "--out", str(target)), loader(tampered, sha))
    assert (code, out) == (1, "")
    assert "does not match the snapshot" in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_exits_2(tmp_path: Path) -> None:
    snapshot, sha = with_hash(example())
    target = tmp_path / "no-such-dir" / "x.json"
    code, _, err = run(parse("1", "--format", "json", "--out", str(target)), loader(snapshot, sha))
    assert code == 2 and err.startswith(f"codesign export: cannot write {target}")


def test_rejects_unknown_format() -> None:
    with pytest.raises(SystemExit):
        parse("1", "--format", "odt")


def test_importing_the_package_does_not_load_the_heavy_writers() -> None:
    code = ("import sys, codesign.export, codesign.export_cli; "
            "print(sorted(m for m in ('typst', 'weasyprint', 'docx', 'openpyxl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
