"""codesign keeps NumPy's BLAS to one thread unless the deployment says otherwise (codesign/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = "import codesign, numpy, os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"


def _run(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", SHOW], env={**clean, **env}, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip()


def test_one_blas_thread_by_default_and_a_deployment_may_choose() -> None:
    assert _run() == "1 1"
    assert _run(OPENBLAS_NUM_THREADS="2") == "2 1"


def test_codesign_tally_imports_neither_scipy_nor_sqlalchemy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`codesign tally` on a national round must stay lean: scipy.stats costs 1.4 s to import and
    SQLAlchemy 0.4 s, and tally reads a file, never a database."""
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("participant,group,outcome,value\nP1,patient,Sleep,8\n", encoding="utf-8")
    script = ("import contextlib, io, sys\nfrom codesign.cli import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              f"    assert main(['tally', {str(ballots)!r}, '--method', 'rating']) == 0\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sqlalchemy'}))")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"


def test_the_web_app_imports_neither_scipy_nor_matplotlib_until_a_page_needs_it() -> None:
    """scipy.stats takes 1.4 s to import: every server process (and worker, and test server) paid it
    at start for two functions (the funnel plot's over-dispersion test, the attrition test); and
    matplotlib 0.5 s, for the evidence charts."""
    shown = subprocess.run([sys.executable, "-c", "import sys, codesign.app, codesign.cli; "
                            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib'}))"],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"
