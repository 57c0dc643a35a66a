"""``codesign verify``: check the audit chain, frozen versions, approvals and stored exports.

    codesign verify [--head SEQ:SHA256]

Prints one line per problem (with the ids to look up), then what was checked and the chain head.
Exit status 0 when nothing is wrong, 1 on any sign of tampering, 2 for a usage error (as the
other commands). An auditor keeps the printed head; passing it back with --head later also
catches someone who rewrote the whole chain and its head.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # `codesign tally` builds this parser too, and must not import SQLAlchemy
    from sqlalchemy import Engine

TAMPERED = 1
BAD_INPUT = 2
HEAD = re.compile(r"([1-9][0-9]{0,17}):([0-9a-f]{64})")


def parse_head(text: str) -> tuple[int, str]:
    match = HEAD.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected SEQ:SHA256 as printed by an earlier codesign verify, like 41:{'0' * 64}; got {text!r}")
    return int(match.group(1)), match.group(2)


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--head", type=parse_head, metavar="SEQ:SHA256",
                        help="a chain head printed by an earlier run: the chain must still hold that event and hash")


def run_verify(args: argparse.Namespace, engine: Engine, stdout: TextIO, stderr: TextIO) -> int:
    from codesign import db, integrity

    current, needed = db.current_revision(engine), db.head_revision(engine)
    if current != needed:
        print(f"codesign verify: the database is at schema {current or 'none'} but this code needs {needed}; "
              "run `codesign migrate` first", file=stderr)
        return BAD_INPUT
    with db.read_session(engine) as session:
        found = integrity.verify(session, kept_head=args.head)
    for problem in found.problems:
        print(problem, file=stdout)
    checked = ", ".join(f"{what} {n}" for what, n in found.counts.items())
    print(f"Checked: {checked}.", file=stdout)
    if found.head is not None:
        seq, digest = found.head
        print(f"Chain head: seq {seq}, sha256 {digest}", file=stdout)
    if found.problems:
        count = len(found.problems)
        print(f"TAMPERING: {count} {'problem' if count == 1 else 'problems'} found.", file=stdout)
        return TAMPERED
    print("No tampering found.", file=stdout)
    if found.head is not None:
        seq, digest = found.head
        print(f"Keep the head: `codesign verify --head {seq}:{digest}` later shows whether the chain up to "
              "here was rewritten.", file=stdout)
    return 0
