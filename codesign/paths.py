"""Where the project's non-Python folders are (the layout is fixed: see DESIGN.md section 7)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
SEED = ROOT / "seed"
NHSUK_ASSETS = STATIC / "vendor" / "nhsuk-frontend-10.6.1" / "assets"
