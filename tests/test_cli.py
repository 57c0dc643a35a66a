"""The `codesign` command, run in a subprocess the way an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.integrity_helpers import as_owner


def run(args: list[str], database_url: str, stdin: str = "", **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    env.update(CODESIGN_DATABASE_URL=database_url, CODESIGN_ENV="development", **settings)
    return subprocess.run([sys.executable, "-m", "codesign.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_migrate_seed_demo_and_create_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrated = run(["migrate"], url)
    assert migrated.returncode == 0, migrated.stderr
    first = run(["seed-demo"], url)
    assert first.returncode == 0, first.stderr
    assert "Demo loaded." in first.stdout and "facilitator@demo.codesign.invalid" in first.stdout
    # The demo freezes and approves through the services, not the pages whose POST stores the
    # exports afterwards, so loading it stores them itself: each format's edition naming its approver.
    assert "Stored exports of its frozen version: 6" in first.stdout
    code = first.stdout.split("join code: ")[1].strip()
    again = run(["seed-demo", "--if-empty"], url)
    assert "nothing changed" in again.stdout and code in again.stdout
    assert "Stored exports of its frozen version: 6" in again.stdout  # kept, not made again
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM population_group")).scalar_one() == 1
        # 12 people in the room, and 32 online-survey respondents imported into the demo's rounds.
        assert conn.execute(text("SELECT count(*) FROM participant WHERE external_ref IS NULL")).scalar_one() == 12
        assert conn.execute(text("SELECT count(*) FROM participant")).scalar_one() == 12 + 32
        rounds = conn.execute(text("SELECT method, status, revealed FROM voting_round ORDER BY number")).all()
        assert [tuple(r) for r in rounds] == [("rating", "closed", 1), ("rating", "closed", 1),
                                              ("ranking", "closed", 1)]
        merged = conn.execute(text("SELECT count(*) FROM outcome WHERE status = 'merged'")).scalar_one()
        reworded = conn.execute(text("SELECT count(*) FROM outcome_revision WHERE action = 'reworded'")).scalar_one()
        assert (merged, reworded) == (1, 1)
        # The demo's framework: version 1 frozen (and approved by a second person), version 2 a draft.
        versions = conn.execute(text("SELECT id, number, status, sha256 FROM framework_version ORDER BY number")).all()
        assert [(v.number, v.status) for v in versions] == [(1, "frozen"), (2, "draft")]
        assert conn.execute(text("SELECT count(*) FROM framework_approval")).scalar_one() == 1
        items = conn.execute(text("SELECT count(*) FROM shortlist_item WHERE included AND version_id = :v"),
                             {"v": versions[0].id}).scalar_one()
        assert 6 <= items <= 8
        stored = conn.execute(text("SELECT version_id, format FROM framework_export ORDER BY format")).all()
        assert [tuple(x) for x in stored] == [(versions[0].id, f) for f in
                                              ("csv.1", "docx.1", "fhir.1", "json.1", "pdf.1", "xlsx.1")]
    out = tmp_path / "appendix.json"
    exported = run(["export", str(versions[0].id), "--format", "json", "--out", str(out)], url)
    assert exported.returncode == 0 and versions[0].sha256 in exported.stdout
    assert json.loads(out.read_text())["sha256"] == versions[0].sha256
    # The demo's frozen version as a FHIR bundle, its canonical URLs under CODESIGN_FHIR_BASE.
    fhir = tmp_path / "appendix.fhir.json"
    exported = run(["export", str(versions[0].id), "--format", "fhir", "--out", str(fhir)], url,
                   CODESIGN_FHIR_BASE="https://fhir.example.nhs.uk/fhir/")
    assert exported.returncode == 0, exported.stderr
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    assert bundle["id"] == versions[0].sha256 and len(bundle["entry"]) == items + 1
    assert all(e["fullUrl"].startswith("https://fhir.example.nhs.uk/fhir/Measure/") for e in bundle["entry"])
    from fhir.resources.R4B.bundle import Bundle
    assert Bundle.model_validate(bundle).model_dump(mode="json") == bundle
    # Exporting signs nothing: it works in production with no CODESIGN_SECRET_KEY at all.
    bare = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    bare.update(CODESIGN_DATABASE_URL=url)
    keyless = subprocess.run([sys.executable, "-m", "codesign.cli", "export", str(versions[0].id), "--format", "csv",
                              "--out", str(tmp_path / "appendix.csv")], env=bare, capture_output=True, text=True,
                             timeout=120, check=False)
    assert keyless.returncode == 0, keyless.stderr
    assert (tmp_path / "appendix.csv").stat().st_size > 0
    # So does checking the records: an auditor's laptop has no key either (README: read access is enough).
    checked = subprocess.run([sys.executable, "-m", "codesign.cli", "verify"], env=bare, capture_output=True,
                             text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "stored exports 6" in checked.stdout
    served = subprocess.run([sys.executable, "-m", "codesign.cli", "results", "1"], env=bare, capture_output=True,
                            text=True, timeout=120, check=False)
    assert served.returncode == 2 and "CODESIGN_SECRET_KEY" in served.stderr  # other commands still need it
    draft = run(["export", str(versions[1].id), "--format", "docx"], url)
    assert draft.returncode == 2 and "draft" in draft.stderr
    made = run(["create-user", "lead@example.nhs.uk", "--role", "commissioner", "--password-stdin"], url,
               stdin="a long enough password\n")
    assert made.returncode == 0 and "Created commissioner account" in made.stdout
    refused = run(["create-user", "lead@example.nhs.uk", "--role", "commissioner", "--password-stdin"], url,
                  stdin="short\n")
    assert refused.returncode == 2 and "already an account" in refused.stderr and "at least 10" in refused.stderr
    # A demo whose frozen version was changed behind the app's back still starts (make run), and says so.
    as_owner(engine, f"UPDATE framework_version SET snapshot_json = replace(snapshot_json, 'diabetes', 'DIABETES') "
                     f"WHERE id = {versions[0].id}", tables=("framework_version",))
    tampered = run(["seed-demo", "--if-empty"], url)
    assert tampered.returncode == 0, tampered.stderr
    assert "none added: its frozen version failed its integrity checks (run codesign verify)" in tampered.stdout
    engine.dispose()


def test_production_refuses_placeholder_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    env.update(CODESIGN_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", CODESIGN_SECRET_KEY="change-me")
    result = subprocess.run([sys.executable, "-m", "codesign.cli", "migrate"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2 and "CODESIGN_SECRET_KEY" in result.stderr
