"""`codesign evidence import | peers | compare`, in process against the test database, and once as a command."""

from __future__ import annotations

import http.server
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from codesign.config import Settings
from codesign.evidence_cli import run_evidence
from tests.evidence_helpers import data_file, peer_file

REQUIRED = {"indicator", "area", "period", "direction", "value", "lower_ci95", "upper_ci95", "count", "denominator",
            "national", "peers", "peer_mean", "best5_mean", "opportunity", "funnel"}


def run(settings: Settings, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_evidence(list(argv), out, err, settings)
    return status, out.getvalue(), err.getvalue()


def test_import_peers_and_compare(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text(data_file(), encoding="utf-8")
    (tmp_path / "peers.csv").write_text(peer_file("A", [f"P{i:02}" for i in range(10)]), encoding="utf-8")
    assert run(settings, "import", str(tmp_path / "data.csv")) == (
        0, "Imported 12 figures from data.csv (12 new, 0 updated) for 1 indicators and 12 areas.\n", "")
    assert run(settings, "import", str(tmp_path / "data.csv"))[1].startswith("Imported 12 figures from data.csv (0 new")
    assert run(settings, "peers", str(tmp_path / "peers.csv")) == (0, "Set the peers of 1 areas from peers.csv.\n", "")
    status, out, err = run(settings, "compare", "--indicator", "90001", "--area", "A", "--direction", "higher")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert set(document) >= REQUIRED
    assert document["value"] == 60.0 and document["national"] == 66.0 and document["period"] == "2024"
    assert document["peers"][0] == {"area": "P00", "area_name": "Area P00", "value": 50.0, "denominator": 1000.0}
    assert document["best5_mean"] == pytest.approx(73.334) and document["opportunity"] == pytest.approx(266.68)
    assert {"centre", "limits", "outside"} <= set(document["funnel"])
    assert document["interval_source"] == "wilson"  # the file has Count and Denominator but no interval
    lower = run(settings, "compare", "--indicator", "90001", "--area", "A", "--direction", "lower")
    # Lower is better: the best five are the lowest (50 to 63.33, mean 56.666); (60 - 56.666) x 2,000 / 100.
    assert json.loads(lower[1])["opportunity"] == pytest.approx(66.68)


@pytest.mark.parametrize("argv", [
    ["compare", "--area", "A"],
    ["compare", "--indicator", "90001", "--area", "A", "--direction", "sideways"],
    ["compare", "--indicator", "90001", "--area", "A", "--multiplier", "0"],
    ["compare", "--indicator", "90001", "--area", "NOWHERE", "--direction", "higher"],
    ["compare", "--indicator", "90001", "--area", "A"],  # not a library indicator: no direction
    ["import", "/no/such/file.csv"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_say_one_line_and_exit_2(settings: Settings, tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "data.csv").write_text(data_file(), encoding="utf-8")
    assert run(settings, "import", str(tmp_path / "data.csv"))[0] == 0
    status, out, err = run(settings, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("codesign evidence: ") and err.count("\n") == 1, err


def test_a_refused_file_names_line_and_column_and_imports_nothing(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text(data_file().replace("1200,2000", "1200,lots"), encoding="utf-8")
    status, out, err = run(settings, "import", str(tmp_path / "bad.csv"))
    assert (status, out) == (2, "")
    assert "bad.csv, line 2, column 15 (denominator): 'lots' is not a number" in err and err.count("\n") == 1
    assert run(settings, "compare", "--indicator", "90001", "--area", "A", "--direction", "higher")[0] == 2


def test_the_codesign_command_runs_it(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    env.update(CODESIGN_DATABASE_URL=database_url, CODESIGN_ENV="development")
    result = subprocess.run([sys.executable, "-m", "codesign.cli", "evidence", "compare", "--area", "A"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr == "codesign evidence: the following arguments are required: --indicator\n"


def test_it_needs_no_secret_key_in_production(database_url: str, tmp_path: Path) -> None:
    """Importing and comparing figures signs nothing: an analyst's machine has no secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    env.update(CODESIGN_DATABASE_URL=database_url, CODESIGN_ENV="production")
    figures = tmp_path / "figures.csv"
    figures.write_text(data_file(), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "codesign.cli", "evidence", "import", str(figures)],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Imported" in result.stdout


class _Recorded(http.server.BaseHTTPRequestHandler):
    """The Fingertips API's all_data/csv/by_indicator_id, answering with a recorded-layout file."""

    body = b""
    asked: list[str] = []  # noqa: RUF012 - one test at a time reads it

    def do_GET(self) -> None:
        _Recorded.asked.append(self.path)
        if "indicator_ids=999" in self.path:
            self.send_error(500, "Internal Server Error")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_fetch_reads_the_fingertips_api_layout_and_imports_it(settings: Settings, tmp_path: Path) -> None:
    """Never the network: the API is served on the loopback address with a file in its layout."""
    _Recorded.body = ("\ufeff" + data_file()).encode("utf-8")  # the API sends a BOM, as the download does
    _Recorded.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/"
        status, out, err = run(settings, "fetch", "--indicator", "90001", "--area-type", "66", "--base-url", base)
        assert status == 0, err
        assert "Imported 12 figures from Fingertips API, indicators 90001, area type 66 (12 new, 0 updated)" in out
        assert _Recorded.asked == ["/api/all_data/csv/by_indicator_id?indicator_ids=90001&child_area_type_id=66"
                                   "&parent_area_type_id=15"]
        peers = tmp_path / "peers.csv"
        peers.write_text(peer_file("A", [f"P{i:02}" for i in range(10)]), encoding="utf-8")
        assert run(settings, "peers", str(peers))[0] == 0
        status, out, _ = run(settings, "compare", "--indicator", "90001", "--area", "A", "--direction", "higher")
        assert status == 0 and json.loads(out)["value"] == 60.0
        refused = run(settings, "fetch", "--indicator", "999", "--area-type", "66", "--base-url", base)
        assert refused[0] == 2 and refused[2].count("\n") == 1 and "answered 500" in refused[2]
    finally:
        server.shutdown()
        server.server_close()
    bad = run(settings, "fetch", "--indicator", "90001; DROP", "--area-type", "66")
    assert bad[0] == 2 and "indicator id '90001; DROP' is not a whole number" in bad[2]
    offline = run(settings, "fetch", "--indicator", "90001", "--area-type", "66", "--base-url", "http://127.0.0.1:9/")
    assert offline[0] == 2 and "cannot reach the Fingertips API" in offline[2]
