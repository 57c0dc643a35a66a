"""bench_load's checks and report: every acknowledged ballot stored exactly once, and the figures."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from load_http import (
    Participant,
)
from load_setup import (
    KEY,
    LOOPBACK,
    SMOKE_KEY,
    TARGET_RATIO,
    Fixture,
    Options,
)
from load_wrk import (
    Phase,
)
from sqlalchemy import Engine, text

# ---------------------------------------------------------------------------------------------
# Exactly once


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def sent_keys(phase: Phase) -> set[str]:
    """Every client key wrk sent in a vote phase (the Lua script numbers them per thread from 0)."""
    return {f"{phase.prefix}{tid:02d}x{n:08d}" for tid, count in phase.sent.items() for n in range(count)}


def expected_participant(key: str, phases: Mapping[str, Phase], opts: Options,
                         people: list[Participant]) -> tuple[str, int] | None:
    """The phase prefix and the index of the participant whose cookie sent this key, or None if no
    phase of this run sent it."""
    match = KEY.match(key)
    if match is None:
        return None
    phase = phases.get(match.group("prefix"))
    tid, n = int(match.group("tid")), int(match.group("n"))
    if phase is None or phase.mode != "vote" or n >= phase.sent.get(tid, 0):
        return None
    return phase.prefix, (n * opts.threads + (tid - 1)) % len(people)


def check_exactly_once(engine: Engine, fixture: Fixture, phases: list[Phase], opts: Options,
                       people: list[Participant]) -> tuple[list[Check], dict[str, int]]:
    by_prefix = {p.prefix: p for p in phases}
    with engine.connect() as conn:
        ids = {str(token): int(pid) for token, pid in conn.execute(text(
            "SELECT token, id FROM participant WHERE session_id = :s"), {"s": fixture.session_id})}
        rows = [(str(k), int(p)) for k, p in conn.execute(text(
            "SELECT s.client_key, b.participant_id FROM ballot_submission s JOIN ballot b ON b.id = s.ballot_id "
            "WHERE s.round_id = :r"), {"r": fixture.round_id})]
        per_answer = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT b.participant_id, a.outcome_id FROM ballot_answer a "
            "JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r "
            "GROUP BY b.participant_id, a.outcome_id HAVING COUNT(*) > 1) t"), {"r": fixture.round_id}).scalar_one()
        per_ballot = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT participant_id FROM ballot WHERE round_id = :r "
            "GROUP BY participant_id HAVING COUNT(*) > 1) t"), {"r": fixture.round_id}).scalar_one()
        answers = conn.execute(text(
            "SELECT COUNT(*) FROM ballot_answer a JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r"),
            {"r": fixture.round_id}).scalar_one()
    person_ids = [ids.get(p.token) for p in people]
    counts = Counter(k for k, _ in rows)
    duplicates = [k for k, c in counts.items() if c > 1]
    stored: Counter[str] = Counter()
    unknown, misattributed = [], []
    for key, participant_id in rows:
        if key == SMOKE_KEY:
            stored["smoke"] += 1
            continue
        found = expected_participant(key, by_prefix, opts, people)
        if found is None:
            unknown.append(key)
            continue
        stored[found[0]] += 1
        if person_ids[found[1]] != participant_id:
            misattributed.append(key)
    checks = [
        Check("no client key stored twice", not duplicates, f"{len(duplicates)} duplicated"
              + (f", e.g. {duplicates[:3]}" if duplicates else "")),
        Check("every stored key was sent by this run", not unknown,
              f"{len(unknown)} unknown" + (f", e.g. {unknown[:3]}" if unknown else "")),
        Check("each submission is on the ballot of the participant who sent it", not misattributed,
              f"{len(misattributed)} on another participant's ballot"),
        Check("one ballot per participant", per_ballot == 0, f"{per_ballot} participants with several"),
        Check("at most one answer per participant and outcome", per_answer == 0,
              f"{per_answer} (participant, outcome) pairs answered twice; {answers} answers in all"),
    ]
    stored_keys = set(counts)
    for phase in phases:
        if phase.mode != "vote":
            continue
        db_rows = stored[phase.prefix]
        missing = len(sent_keys(phase) - stored_keys)  # sent, never stored
        unacknowledged = phase.total_sent - phase.ok
        clean = phase.socket_errors == 0 and unacknowledged == 0
        # Each acknowledged key is stored if at most the unacknowledged requests are missing from the
        # database; with none unacknowledged, the stored keys are exactly the keys sent.
        passed = missing <= unacknowledged and phase.ok <= db_rows <= phase.total_sent
        if clean:
            passed = passed and missing == 0 and db_rows == phase.ok
        rule = "stored == acknowledged, key by key" if clean else "acknowledged <= stored, key by key"
        checks.append(Check(
            f"{phase.name}: every acknowledged ballot stored exactly once ({rule})", passed,
            f"sent {phase.total_sent}, acknowledged (303) {phase.ok}, in the database {db_rows}, sent but not "
            f"stored {missing}; other responses {phase.other}, no response {phase.unanswered}, wrk socket "
            f"errors {phase.socket_errors - phase.errors.get('timeout', 0)}, timeouts "
            f"{phase.errors.get('timeout', 0)}; stored but not acknowledged {db_rows - phase.ok}"))
    totals = {"submissions": len(rows), "answers": int(answers), **stored}
    return checks, totals


# ---------------------------------------------------------------------------------------------
# Report


def print_environment(opts: Options, db_notes: str) -> None:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False,
                                 timeout=10).stdout.splitlines()
    print("Environment")
    print(f"  CPUs               {cpus} ({usable} usable by this process); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  database           {db_notes}")
    print(f"  server             codesign serve --workers {opts.workers} on {LOOPBACK} (uvicorn, log level "
          "warning: no access log)")
    print(f"  wrk                {wrk_version[0].split(' Copyright')[0] if wrk_version else 'wrk'}: "
          f"-t{opts.threads} -c{opts.connections}, send for {opts.duration} s then read answers in flight for "
          f"up to {opts.grace} s (-d{opts.duration + opts.grace}s), --timeout {opts.timeout}s --latency; "
          f"warm-up {opts.warmup} s per endpoint, not counted")
    print(f"  load               {opts.participants} participants x {opts.outcomes} rating questions, a new key "
          f"per request; CSRF token in {'X-CSRF-Token header' if opts.csrf_header else 'csrf_token form field'}")
    print()


def print_results(trivial: Phase, vote: Phase) -> float:
    print(f"{'endpoint':<42}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'not ok':>7}{'errors':>7}{'CPU ms/req':>11}")
    for phase, label in ((trivial, "GET /healthz (trivial)"), (vote, "POST /s/{code}/rounds/{id}/q/{n} (vote)")):
        print(f"{label:<42}{phase.ok + phase.other:>9}{phase.rps:>9.1f}{phase.p50_ms:>9.2f}{phase.p99_ms:>9.2f}"
              f"{phase.max_ms:>9.1f}{phase.other:>7}{phase.socket_errors:>7}{phase.cpu_ms_per_request:>11.3f}")
    ratio = vote.rps / trivial.rps if trivial.rps else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO else "does NOT meet"
    print(f"\nratio vote/trivial (req/s): {ratio:.3f}  ({verdict} the target of at least {TARGET_RATIO})")
    if vote.cpu_ms_per_request:
        print(f"ratio of CPU cost per request, trivial/vote: {trivial.cpu_ms_per_request / vote.cpu_ms_per_request:.3f}"
              " (the same comparison, less sensitive to other load on the machine)")
    print("  req/s: acknowledged answers (200 for /healthz, a 303 to the next question for a vote) from the first "
          "request to the last answer;")
    print(f"  wrk's own Requests/sec (stopped once drained): {trivial.wrk_rps:.1f} and {vote.wrk_rps:.1f}. "
          "CPU ms/req: codesign serve" + (" + PostgreSQL" if vote.db_cpu else "") + " CPU / answers.")
    for phase in (trivial, vote):
        if phase.statuses:
            print(f"  {phase.name}: responses other than the expected one: {dict(phase.statuses)}")
        if phase.socket_errors:
            print(f"  {phase.name}: wrk socket errors {phase.errors}")
    print(f"\nCores busy during each wrk run ({os.cpu_count()} in all):")
    for phase in (trivial, vote):
        wall = phase.cpu_wall or 1.0
        db = f", PostgreSQL {phase.db_cpu / wall:4.2f}" if phase.db_cpu else ""
        print(f"  {phase.name:<8} {wall:5.1f} s: codesign serve {phase.server_cpu / wall:4.2f}{db}, "
              f"wrk {phase.wrk_cpu / wall:4.2f}, other programs {phase.others_cores:4.2f}")
        if phase.db_sessions is not None:
            print(f"    PostgreSQL connections opened during this run: {phase.db_sessions} "
                  "(pg_stat_database.sessions, approximate)")
        if phase.others_cores > 0.25:
            print(f"    note: other programs took {phase.others_cores:.2f} cores during this run, so its req/s "
                  "is lower than on a quiet machine (CPU ms/req much less so)")
    return ratio


