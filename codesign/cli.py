"""The `codesign` command: serve, worker, migrate, seed-demo, create-user, tally, results, export, verify,
evidence."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from codesign.config import SECRET_PER_PROCESS, Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["evidence"]:  # its own parser: a bad argument is one line on stderr (evidence_cli)
        from codesign.evidence_cli import run_evidence

        return run_evidence(given[1:], sys.stdout, sys.stderr)
    parser = argparse.ArgumentParser(prog="codesign", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app with uvicorn")
    serve.add_argument("--host", help="address to listen on (CODESIGN_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (CODESIGN_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (CODESIGN_WORKERS, default 1)")

    worker = sub.add_parser("worker", help="send mail from the outbox and open and close online rounds on time")
    worker.add_argument("--once", action="store_true", help="do what is due now, then stop (tests, cron)")
    worker.add_argument("--interval", type=float, default=10.0, help="seconds between passes (default 10)")

    sub.add_parser("migrate", help="bring the database to the latest schema")
    seed = sub.add_parser("seed-demo", help="load the demo (idempotent) and print its login and join code")
    seed.add_argument("--if-empty", action="store_true",
                      help="only load the demo into an empty database (make run uses this)")

    create_user = sub.add_parser("create-user", help="make an account")
    create_user.add_argument("email")
    create_user.add_argument("--role", required=True, choices=["admin", "facilitator", "commissioner", "observer"])
    create_user.add_argument("--name", default="")
    create_user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    from codesign.tally_cli import add_tally_arguments, run_tally

    tally = sub.add_parser("tally", help="analyse a CSV of ballots offline")
    add_tally_arguments(tally)

    results = sub.add_parser("results", help="print a round's results (the same schema as tally)")
    results.add_argument("round_id", type=int)
    results.add_argument("--format", choices=["json", "csv"], default="json")

    from codesign.export_cli import add_export_arguments

    export = sub.add_parser("export", help="write a frozen framework version as Appendix A")
    add_export_arguments(export)

    from codesign.verify_cli import add_verify_arguments

    verify = sub.add_parser("verify", help="check the audit chain, frozen versions, approvals and stored exports")
    add_verify_arguments(verify)

    from codesign.evidence_cli import HELP as EVIDENCE_HELP

    evidence = sub.add_parser("evidence", help=EVIDENCE_HELP, add_help=False)  # listed here, run above
    evidence.add_argument("rest", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    if args.command == "tally":
        return run_tally(args, sys.stdout, sys.stderr)
    try:
        # Writing a frozen version's appendix signs nothing: no secret key needed (an analyst's laptop).
        settings = Settings.from_env(needs_secret=args.command not in ("export", "verify"))  # sign nothing
    except SettingsError as exc:
        print(f"codesign: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "worker":
        return _worker(settings, once=args.once, interval=args.interval)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "seed-demo":
        return _seed_demo(settings, if_empty=args.if_empty)
    if args.command == "create-user":
        return _create_user(settings, args)
    if args.command == "results":
        return _results(settings, args.round_id, args.format)
    if args.command == "export":
        return _export(settings, args)
    if args.command == "verify":
        return _verify(settings, args)
    parser.error(f"unknown command {args.command}")  # pragma: no cover
    return 2  # pragma: no cover


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from codesign.web.access_log import log_config

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    try:
        settings.with_overrides(workers=workers).validate()  # --workers may ask for more than the environment
    except SettingsError as exc:
        print(f"codesign: {exc}", file=sys.stderr)
        return 2
    if settings.secret_origin == SECRET_PER_PROCESS:
        print("codesign: note: CODESIGN_ENV=test and no CODESIGN_SECRET_KEY, so cookies are signed with a random key "
              "made for this process; everyone is signed out when it stops.", file=sys.stderr)
    if workers > 1 and settings.is_sqlite:
        print("codesign: note: several workers on SQLite serialise writes; use PostgreSQL for real load.",
              file=sys.stderr)
    uvicorn.run(
        "codesign.asgi:app",
        factory=False,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(),  # personal-link tokens never reach the log (web/access_log.py)
        proxy_headers=bool(settings.trusted_proxy),
        forwarded_allow_ips=settings.trusted_proxy or None,
        server_header=False,
    )
    return 0


def _worker(settings: Settings, *, once: bool, interval: float) -> int:
    import logging
    import signal
    import threading

    from codesign import db
    from codesign.mail import worker

    level = getattr(logging, settings.log_level.upper(), logging.INFO)  # uvicorn's "trace" is not logging's
    logging.basicConfig(level=level if isinstance(level, int) else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if interval <= 0:
        print("codesign: --interval must be more than 0 seconds", file=sys.stderr)
        return 2
    engine = db.make_engine(settings)
    try:
        if once:
            tick = worker.run_once(engine, settings)
            print(f"Worker: {len(tick.sent)} sent, {len(tick.failed)} not sent (will retry or failed), "
                  f"{len(tick.opened)} rounds opened, {len(tick.closed)} closed, {tick.reminders} reminders queued")
            return 0
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        print(f"codesign worker running (every {interval:g} s); Ctrl+C stops it", file=sys.stderr)
        worker.run_forever(engine, settings, interval, stop)
    finally:
        engine.dispose()
    return 0


def _migrate(settings: Settings) -> int:
    from codesign import db

    engine = db.make_engine(settings)
    try:
        db.migrate(engine)
        print(f"Database at schema {db.current_revision(engine)} ({engine.url.render_as_string()})")
    finally:
        engine.dispose()
    return 0


def _seed_demo(settings: Settings, *, if_empty: bool = False) -> int:
    from codesign import db, queries
    from codesign.errors import TamperingDetected
    from codesign.services.demo import DEMO_USERS, find_demo, seed_demo, store_demo_exports

    engine = db.make_engine(settings)
    try:
        with db.write_session(engine) as session:
            if if_empty and not queries.is_database_empty(session):
                info = find_demo(session)
                if info is None:
                    print("The database already holds data, so the demo was not loaded.")
                    return 0
            else:
                info = seed_demo(session)
            try:
                stored = f"{store_demo_exports(session, info, settings.fhir_base_url)} (each download serves them)"
            except TamperingDetected:  # the server still starts; its pages and `codesign verify` say what failed
                stored = "none added: its frozen version failed its integrity checks (run codesign verify)"
    finally:
        engine.dispose()
    print("Demo " + ("loaded." if info.created else "already loaded; nothing changed."))
    print(f"  Stored exports of its frozen version: {stored}")
    print(f"  Facilitator sign-in: {info.facilitator_email} / {info.password}")
    print(f"  Also: {', '.join(email for email, _role, _name in DEMO_USERS if email != info.facilitator_email)}"
          " (the same password)")
    print(f"  Demo session join code: {info.join_code}")
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from codesign import db
    from codesign.errors import ValidationFailed
    from codesign.services.accounts import create_user
    from codesign.services.passwords import new_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("codesign: the passwords did not match; nothing was saved.", file=sys.stderr)
            return 2
    prepared = new_password(password)  # hashed before the write transaction (services.passwords)
    engine = db.make_engine(settings)
    try:
        with db.write_session(engine) as session:
            user = create_user(session, args.email, args.role, prepared, name=args.name)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            print(f"codesign: {field}: {message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Created {user.role} account {user.email}")
    return 0


def _results(settings: Settings, round_id: int, fmt: str) -> int:
    import json

    from codesign import db, queries
    from codesign.errors import NotFound
    from codesign.export.round_csv import write_round_results_csv
    from codesign.models import Round

    engine = db.make_engine(settings)
    try:
        with db.read_session(engine) as session:
            found = session.get(Round, round_id)
            if found is None:
                print(f"codesign: there is no round {round_id}", file=sys.stderr)
                return 2
            if found.status != "closed":
                print(f"codesign: round {round_id} is {found.status}; its results are shown once it has closed",
                      file=sys.stderr)
                return 2
            try:
                results = queries.round_results(session, found.session_id, round_id)
                document = queries.results_document(session, found.session_id, round_id)
            except NotFound as exc:  # pragma: no cover - the round was just found
                print(f"codesign: {exc}", file=sys.stderr)
                return 2
    finally:
        engine.dispose()
    if fmt == "csv":
        write_round_results_csv(results, sys.stdout)
    else:
        json.dump(document, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from codesign import db
    from codesign.export._signoff import with_sign_off
    from codesign.export_cli import run_export
    from codesign.integrity import approvals_of
    from codesign.models import FrameworkVersion

    engine = db.make_engine(settings)

    def load(version_id: int) -> tuple[dict[str, object], str]:
        with db.read_session(engine) as session:
            version = session.get(FrameworkVersion, version_id)
            if version is None:
                raise LookupError(f"there is no framework version {version_id}")
            if version.status != "frozen" or not version.snapshot_json or not version.sha256:
                raise LookupError(f"version {version.number} (id {version_id}) is a draft; freeze it before exporting")
            # The sign-off as it stands now travels beside the snapshot (export/_signoff.py).
            return with_sign_off(json.loads(version.snapshot_json), approvals_of(session, version_id)), version.sha256

    try:
        return run_export(args, sys.stdout, sys.stderr, load, fhir_base=settings.fhir_base_url)
    finally:
        engine.dispose()


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from codesign import db
    from codesign.verify_cli import run_verify

    engine = db.make_engine(settings)
    try:
        return run_verify(args, engine, sys.stdout, sys.stderr)
    finally:
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
