"""`codesign evidence import FILE.csv | fetch --indicator ID --area-type ID | peers FILE.csv |
compare --indicator ID --area CODE ...`.

Its own argument parser, so that a bad argument says one line on stderr and exits 2 (argparse would
print the usage as well); a refused file says its first problems, with line and column, on one line.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from codesign.config import Settings, SettingsError

HELP = "import indicator data or peer groups, or compare an area with its peers (JSON)"


class BadArguments(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadArguments(message)


def _parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: `codesign` imports this module for its help line, and the
    # evidence package brings in scipy.stats (1.4 s), which every other command would then pay.
    from codesign.evidence.fingertips import DEFAULT_BASE

    parser = _Parser(prog="codesign evidence", description=HELP)
    sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    imported = sub.add_parser("import", help="import a Fingertips-layout indicator data CSV")
    imported.add_argument("file", type=Path)
    fetch = sub.add_parser("fetch", help="import indicator data from the Fingertips API (needs the internet)")
    fetch.add_argument("--indicator", required=True, action="append", help="Fingertips indicator id (repeatable)")
    fetch.add_argument("--area-type", required=True, help="Fingertips area type id, e.g. 66 (sub-ICB) or 221 (ICB)")
    fetch.add_argument("--parent-area-type", default="15", help="parent area type id (default 15, England)")
    fetch.add_argument("--base-url", default=DEFAULT_BASE, help=f"the API (default {DEFAULT_BASE})")
    peers = sub.add_parser("peers", help="import peer groups from area_code,peer_code rows")
    peers.add_argument("file", type=Path)
    compare = sub.add_parser("compare", help="print the comparison as JSON (docs/evidence.md)")
    compare.add_argument("--indicator", required=True)
    compare.add_argument("--area", required=True)
    compare.add_argument("--period")
    compare.add_argument("--direction", choices=["higher", "lower"])
    compare.add_argument("--multiplier", type=float, help="100 for %%, 1000 per 1,000, ... (default: the "
                                                          "library's unit, else inferred)")
    return parser


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadArguments(f"{path.name} is not UTF-8 text; save it as CSV UTF-8") from None
    except OSError as exc:
        raise BadArguments(f"cannot read {path}: {exc.strerror or exc}") from None


def _fetch(url: str) -> str:
    """The API's CSV (certificates verified; a failure is one line for the user)."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - an https address we built
            return bytes(response.read()).decode("utf-8-sig")
    except urllib.error.HTTPError as exc:
        raise BadArguments(f"the Fingertips API answered {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BadArguments(f"cannot reach the Fingertips API ({reason}); is this machine online?") from None
    except UnicodeDecodeError:
        raise BadArguments("the Fingertips API's answer is not UTF-8 text") from None


def run_evidence(argv: Sequence[str], out: TextIO, err: TextIO, settings: Settings | None = None) -> int:
    from codesign import db, queries
    from codesign.errors import NotFound, ValidationFailed
    from codesign.services import evidence

    try:
        args = _parser().parse_args(list(argv))
        if args.action == "compare" and args.multiplier is not None and not args.multiplier > 0:
            raise BadArguments("--multiplier must be above 0")
        text = _read(args.file) if args.action in ("import", "peers") else ""
        if args.action == "fetch":
            from codesign.evidence.fingertips import data_url

            try:
                url = data_url(args.indicator, args.area_type, args.parent_area_type, args.base_url)
            except ValueError as exc:
                raise BadArguments(str(exc)) from None
            text = _fetch(url)
        settings = settings or Settings.from_env(needs_secret=False)  # reads and imports figures: signs nothing
    except (BadArguments, SettingsError) as exc:
        print(f"codesign evidence: {exc}", file=err)
        return 2
    engine = db.make_engine(settings)
    try:
        if args.action == "compare":
            with db.read_session(engine) as session:
                result = queries.get_comparison(session, args.indicator, args.area, args.period, args.direction,
                                                args.multiplier)
            json.dump(result.to_json(), out, indent=2, sort_keys=True, ensure_ascii=False)
            out.write("\n")
            return 0
        with db.write_session(engine) as session:
            if args.action in ("import", "fetch"):
                source = args.file.name if args.action == "import" else (
                    f"Fingertips API, indicators {','.join(args.indicator)}, area type {args.area_type}")
                summary = evidence.import_indicators(session, None, text, source)
                print(f"Imported {summary.rows} figures from {source} ({summary.added} new, "
                      f"{summary.updated} updated) for {len(summary.indicators)} indicators and {summary.areas} "
                      "areas.", file=out)
            else:
                groups = evidence.import_peers(session, None, text, args.file.name)
                print(f"Set the peers of {len(groups)} areas from {args.file.name}.", file=out)
        return 0
    except ValidationFailed as exc:
        print("codesign evidence: " + " ".join(exc.errors.values()), file=err)
        return 2
    except NotFound as exc:
        print(f"codesign evidence: {exc}", file=err)
        return 2
    finally:
        engine.dispose()
