"""The demo: a population group with a workshop in progress, so a newcomer sees every screen:
people in every group, moderated proposals, and three closed and revealed voting rounds
(demo_rounds.py).

Idempotent: running it twice finds the demo by name and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from codesign import paths
from codesign.models import (
    FrameworkVersion,
    Outcome,
    PopulationGroup,
    Role,
    StakeholderGroup,
    User,
    VersionStatus,
    WorkshopSession,
)
from codesign.services import accounts, demo_framework, demo_rounds, evidence, exports, population, proposals, sessions

DEMO_GROUP_NAME = "Adults with diabetes, Haringey and Islington (demo)"
DEMO_TEMPLATE = "adults-with-diabetes"
DEMO_EVIDENCE = paths.SEED / "evidence"  # illustrative Fingertips-layout figures and peers (its README)
DEMO_AREA = "DEMO-HI"
DEMO_PASSWORD = "codesign-demo-2026"  # noqa: S105 - the demo login, printed by seed-demo
DEMO_USERS = (
    ("facilitator@demo.codesign.invalid", Role.facilitator, "Demo facilitator"),
    ("commissioner@demo.codesign.invalid", Role.commissioner, "Demo commissioner"),
    ("admin@demo.codesign.invalid", Role.admin, "Demo administrator"),
)
# (group, first name, table) for about a dozen people at four tables.
DEMO_PARTICIPANTS = (
    ("patient", "Amara", 1), ("patient", "Brian", 2), ("patient", "Chen", 3), ("patient", "Dolores", 4),
    ("carer", "Ellis", 1), ("carer", "Fatima", 2), ("carer", "", 3),
    ("clinician", "Gita", 1), ("clinician", "Hamid", 2), ("clinician", "", 4),
    ("commissioner", "Iris", 3), ("commissioner", "Jon", 4),
)
DEMO_PROPOSALS = (
    (0, "I can see the same diabetes nurse each time", ""),
    (4, "Seeing the same nurse every time", "My husband has to explain everything again at every visit."),
    (1, "Help with my mood and worry about diabetes", ""),
    (7, "Fewer people needing a foot amputation", "Foot checks are being missed in the community."),
    (5, "Carers get a break and some support", ""),
    (2, "Educaton courses at times that suit working people", ""),
)


@dataclass(frozen=True)
class DemoInfo:
    created: bool
    facilitator_email: str
    password: str
    join_code: str
    session_id: int
    population_group_id: int


def find_demo(db: Session) -> DemoInfo | None:
    existing = db.exec(select(PopulationGroup).where(PopulationGroup.name == DEMO_GROUP_NAME)).first()
    if existing is None:
        return None
    session = db.exec(select(WorkshopSession).where(
        WorkshopSession.population_group_id == existing.id).order_by(col(WorkshopSession.id))).first()
    assert session is not None and session.id is not None and existing.id is not None
    return DemoInfo(False, DEMO_USERS[0][0], DEMO_PASSWORD, session.join_code, session.id, existing.id)


def seed_demo(db: Session) -> DemoInfo:
    existing = find_demo(db)
    if existing is not None:
        return existing

    users: dict[str, User] = {}
    for email, role, name in DEMO_USERS:
        user = db.exec(select(User).where(User.email == email)).first()
        users[role] = user or accounts.create_user(db, email, role, DEMO_PASSWORD, name=name)
    facilitator = users[Role.facilitator]

    group = population.create_population_group(
        db, facilitator, DEMO_GROUP_NAME,
        "Demo: a value-based commissioning workshop for adults with diabetes, after the Haringey and "
        "Islington programme.", DEMO_TEMPLATE,
    )
    assert group.id is not None
    session = sessions.create_session(db, facilitator, group.id, "Diabetes outcomes workshop, Tottenham",
                                      "2026-03-20")
    assert session.id is not None
    keys = {g.key: g for g in db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == group.id))}
    people = [sessions.join_session(db, session.id, key, name, str(table))
              for key, name, table in DEMO_PARTICIPANTS if key in keys]
    made: list[Outcome] = []
    for who, statement, description in DEMO_PROPOSALS:
        person = people[who]
        assert person.id is not None
        made.append(proposals.propose_outcome(db, session.id, person.id, statement, description))
    ids = [o.id for o in made]
    assert all(i is not None for i in ids)
    same_nurse, same_nurse_dup, mood, feet, carers, education = (int(i or 0) for i in ids)
    proposals.merge_outcomes(db, facilitator, session.id, same_nurse, [same_nurse_dup],
                             "Same idea from a patient and a carer")
    proposals.accept_outcome(db, facilitator, session.id, same_nurse)
    proposals.reword_outcome(db, facilitator, session.id, mood,
                             "I get help with low mood and worry about my diabetes",
                             "Clearer wording agreed with the proposer's table")
    proposals.accept_outcome(db, facilitator, session.id, mood)
    proposals.accept_outcome(db, facilitator, session.id, feet)
    proposals.accept_outcome(db, facilitator, session.id, carers)
    # "education" is left waiting, so the console shows a live proposal.
    del education
    demo_rounds.seed_demo_rounds(db, facilitator, session.id, group.id, people)
    # The figures first: the framework's definitions link to them, and its frozen version keeps them.
    seed_demo_evidence(db, users[Role.commissioner])
    demo_framework.seed_demo_framework(db, users[Role.commissioner], users[Role.admin], session, area=DEMO_AREA)
    return DemoInfo(True, facilitator.email, DEMO_PASSWORD, session.join_code, session.id, group.id)


def store_demo_exports(db: Session, info: DemoInfo, fhir_base: str) -> int:
    """Store the exports of the demo's frozen versions, as the freeze and approve pages do after
    their POST (the demo freezes and approves through the services, so nothing else would), and
    say how many are stored. Those already stored are kept: loading the demo again adds only
    what is missing, such as the exports of a demo loaded before this was done."""
    frozen = db.exec(select(FrameworkVersion.id).where(
        FrameworkVersion.population_group_id == info.population_group_id,
        FrameworkVersion.status == VersionStatus.frozen).order_by(col(FrameworkVersion.id))).all()
    return sum(len(exports.store_every_format(db, version_id or 0, fhir_base)) for version_id in frozen)


def seed_demo_evidence(db: Session, actor: User | None) -> None:
    """The illustrative indicator figures and the demo area's peers (360 rows: well under a second)."""
    for name, load in (("demo_indicators.csv", evidence.import_indicators), ("demo_peers.csv", evidence.import_peers)):
        load(db, actor, (DEMO_EVIDENCE / name).read_text(encoding="utf-8"), name)
