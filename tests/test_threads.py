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


def test_the_command_line_does_not_import_scipy_stats_for_every_command() -> None:
    """`codesign tally` on a national round must stay lean: scipy.stats costs 1.4 s to import."""
    shown = subprocess.run([sys.executable, "-c", "import sys, codesign.cli, codesign.tally_cli; "
                            "print(sorted(m for m in sys.modules if m.startswith('scipy')))"],
                           capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    assert shown == "[]"
