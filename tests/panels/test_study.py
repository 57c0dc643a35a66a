"""A two-round study across two workshops: participation, attrition and stability on the panel's
stability page and in the appendix's co-design annex (queries/study.py, routes/study.py,
export/_study.py)."""

from __future__ import annotations

import html
import io
import itertools
import re
from typing import Any

import docx
from pypdf import PdfReader
from sqlmodel import Session

from codesign import queries
from codesign.export import export
from codesign.export.canonical import snapshot_sha256
from codesign.models import Panellist, PanelRound, Participant, User, WorkshopSession
from codesign.queries.study import get_study
from codesign.services import ballots, framework_versions, panels, rounds, sessions, shortlist
from codesign.services import online as online_links
from tests.conftest import join, make_user, sign_in
from tests.round_helpers import accepted_ids, round_form

keys = itertools.count()

# Round 1 (workshop one), outcomes A, B, C; 1-9 ratings. P7 joins but never answers.
#   P1-P4 stay:  A 8, B 8, C 2       P5, P6 leave after round 1:  A 3, B 8, C 2
#   C1-C4 stay:  A 8, B 7 7 7 5, C 2 C5 leaves (answers one question in round 2): A 8, B 5, C 2
# Round 2 (workshop two), the same outcomes: P1-P6 and C1-C5 join (as the same panellists).
#   P1-P4: A 8, B 8, C 2;  C1-C4: A 8, B 7 7 5 5, C 2;  C5: A 8 only (started, not finished).
ROUND_1 = {"P": [(8, 8, 2)] * 4 + [(3, 8, 2)] * 2,
           "C": [(8, 7, 2)] * 3 + [(8, 5, 2)] + [(8, 5, 2)]}
ROUND_2 = {"P": [(8, 8, 2)] * 4, "C": [(8, 7, 2)] * 2 + [(8, 5, 2)] * 2}


def rate(db: Session, round_id: int, person: Participant, ids: list[int], values: tuple[int, ...]) -> None:
    assert person.id is not None
    for outcome, value in zip(ids, values, strict=False):
        ballots.answer_rating(db, round_id, person.id, outcome, str(value), f"study-{next(keys):06d}")


def two_round_study(db: Session, actor: User, workshop: WorkshopSession, min_size: str = "3") -> dict[str, Any]:
    assert workshop.id is not None
    panel = panels.create_panel(db, actor, workshop.population_group_id, "Diabetes study 2027")
    assert panel.id is not None
    second = sessions.create_session(db, actor, workshop.population_group_id, "Workshop two", "2026-04-20")
    for s in (workshop, second):
        s.panel_id = panel.id  # attaching sessions to a panel is the panel pages' (another module)
        db.add(s)
    db.commit()
    who = {f"P{i}": panels.add_panellist(db, actor, panel.id, f"Patient {i}", f"p{i}@example.com", "patient")
           for i in range(1, 8)}
    who |= {f"C{i}": panels.add_panellist(db, actor, panel.id, f"Clinician {i}", f"c{i}@example.com", "clinician")
            for i in range(1, 6)}

    def joined(session: WorkshopSession, name: str) -> Participant:
        assert session.id is not None
        person = sessions.join_session(db, session.id, "patient" if name[0] == "P" else "clinician")
        person.panellist_id = who[name].id  # matched by their personal link or the facilitator
        db.add(person)
        db.commit()
        return person

    ids = accepted_ids(db, workshop, 3)
    form = {"min_group_size": min_size}
    first = rounds.create_round(db, actor, workshop.id, round_form(ids, title="Priorities", **form))
    assert first.id is not None
    rounds.open_round(db, actor, workshop.id, first.id, acknowledge_small=True)
    for group, rows in ROUND_1.items():
        for i, values in enumerate(rows, start=1):
            rate(db, first.id, joined(workshop, f"{group}{i}"), ids, values)
    joined(workshop, "P7")
    rounds.close_round(db, actor, workshop.id, first.id)
    assert second.id is not None
    again = rounds.create_round(db, actor, second.id, round_form(ids, title="Priorities again", **form))
    assert again.id is not None
    rounds.open_round(db, actor, second.id, again.id, acknowledge_small=True)
    for group, rows in ROUND_2.items():
        for i, values in enumerate(rows, start=1):
            rate(db, again.id, joined(second, f"{group}{i}"), ids, values)
    rate(db, again.id, joined(second, "C5"), ids, (8,))
    for name in ("P5", "P6"):  # in the room again, but answer nothing: they were invited, and left
        joined(second, name)
    rounds.close_round(db, actor, second.id, again.id, confirm_unsent=True)
    return {"panel": panel, "ids": ids, "second": second, "round_2": again}


def cells(page: str, header: str) -> list[str]:
    """The text of each cell in the table row whose first cells read `header` (joined by |)."""
    for row in re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", page, re.S):
        texts = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if "|".join(texts).startswith(header):
            return texts
    raise AssertionError(f"no row {header!r}")


def test_a_two_round_study_on_the_page_and_in_the_annex(session: Session, facilitator: User, workshop, client) -> None:  # type: ignore[no-untyped-def]
    study = two_round_study(session, facilitator, workshop)
    ids = study["ids"]
    view = get_study(session, study["panel"].id)
    assert [len(r.members) for r in view.rounds] == [1, 1]
    a = {x.outcome: x for x in view.attrition}[str(ids[0])]
    assert (a.n_stayed, a.n_left) == (8, 3) and a.flagged

    sign_in(client, facilitator)
    page = client.get(f"/panels/{study['panel'].id}/stability")
    assert page.status_code == 200
    text = page.text
    r1 = "Round 1: Priorities (Workshop one)"
    r2 = "Round 2: Priorities again (Workshop two)"
    # Round 1: patients P1-P7 joined (7), P1-P6 answered and finished (6); clinicians 5, 5, 5.
    assert cells(text, f"{r1}|Patients") == [r1, "Patients", "7", "6", "6", "–"]
    assert cells(text, f"{r1}|Clinicians") == [r1, "Clinicians", "5", "5", "5", "–"]
    # Round 2: P1-P6 join (invited), P1-P4 all finish: 4 of the 6 patients who finished round 1 (67%).
    # Clinicians: C1-C5 join, C5 answers one question: 5 started, 4 finished, 4 of 5 stayed (80%).
    # All: 8 of 11 (73%).
    assert cells(text, f"{r2}|Patients") == [r2, "Patients", "6", "4", "4", "4 of 6 (67%)"]
    assert cells(text, f"{r2}|Clinicians") == [r2, "Clinicians", "5", "5", "4", "4 of 5 (80%)"]
    assert cells(text, f"{r2}|All groups") == [r2, "All groups", "11", "9", "8", "8 of 11 (73%)"]
    # Attrition, outcome A: stayed P1-P4, C1-C4 all 8 (mean 8, median 8); left P5, P6 (3) and C5 (8):
    # mean 14/3 = 4.67, median 3. U(stayed) = 8 x (2 + 0.5) = 20; mean U 12; ties: nine 8s, two 3s,
    # sum t^3 - t = 720 + 6 = 726; variance = 8 x 3 / 12 x (12 - 726 / 110) = 10.8;
    # z = (8 - 0.5) / sqrt(10.8) = 2.282: p = 0.022. Difference 3.33 >= 1 and p < 0.05: flagged.
    statement_a = queries.round_outcomes(session, study["round_2"].id)[0].statement
    assert cells(text, statement_a)[:9] == [statement_a, "8", "3", "8.00", "4.67", "3.33", "5.0", "0.022", "Flagged"]
    assert "1 outcome flagged" in text
    # Stability: A moved from no consensus (patients 4 of 6 = 67% rated it 7-9) to in (4 of 4 = 100%,
    # +33 points); B stays no consensus (clinicians 60% -> 50%, -10); C stays out.
    assert "Not stable yet: 1 outcome changed its consensus result; in 1 outcome a group" in text
    verdict = re.search(r'<div class="nhsuk-inset-text">.*?<p><strong>(.*?)</strong>', text, re.S)
    assert verdict and verdict.group(1).startswith("Not stable yet")  # first, in words, before any table
    assert text.index("Not stable yet") < text.index("<table")
    row_a = cells(text, f"{statement_a}|No consensus")
    assert row_a == [statement_a, "No consensus", "Consensus in", "67% to 100% (+33)", "100% to 100% (+0)", "Moved"]
    # Kendall's W per round as each round's stored results give it.
    results_2 = queries.round_results(session, study["second"].id, study["round_2"].id).results
    assert results_2 is not None and results_2.agreement.between_groups is not None
    assert cells(text, "Between groups")[2] == f"{results_2.agreement.between_groups.w:.2f}"

    # The annex: a draft framework from round 2 carries the study; the DOCX prints it.
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    shortlist.build_from_round(session, facilitator, version.id, study["round_2"].id)
    snapshot = queries.build_snapshot(session, version.id)
    (entry,) = snapshot["methods"]["study"]
    assert entry["panel"] == "Diabetes study 2027"
    assert entry["participation"][1]["total"] == {"invited": 11, "started": 9, "finished": 8, "not_invited": 0,
                                                     "retention": 0.7273}
    assert entry["participation"][1]["groups"]["Patients"]["retention"] == 0.6667
    first = entry["attrition"]["outcomes"][[o["statement"] for o in entry["attrition"]["outcomes"]].index(statement_a)]
    assert (first["n_stayed"], first["n_left"], first["mean_difference"], first["p_value"], first["flagged"]) == \
        (8, 3, 3.33, 0.0225, True)
    assert entry["stability"][0]["verdict"] == "not_stable"
    buf = io.BytesIO()
    export(snapshot, snapshot_sha256(snapshot), "docx", buf)
    document = docx.Document(io.BytesIO(buf.getvalue()))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "Study: Diabetes study 2027" in paragraphs and "1 outcome flagged" in paragraphs
    assert "Not stable yet: 1 outcome changed its consensus result" in paragraphs
    rows = [[c.text for c in r.cells] for t in document.tables for r in t.rows]
    assert [r2, "All groups", "11", "9", "8", "73%"] in rows
    assert [statement_a, "8", "3", "8", "4.67", "3.33", "0.0225", "Yes"] in rows
    assert [statement_a, "No consensus", "In", "33.3 points"] in rows
    pdf = io.BytesIO()
    export(snapshot, snapshot_sha256(snapshot), "pdf", pdf)
    pdf_text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.getvalue())).pages))
    assert "Study: Diabetes study 2027" in pdf_text and "Did those who left score differently?" in pdf_text
    assert "Not stable yet: 1 outcome changed its consensus result" in pdf_text and "33.3 points" in pdf_text


def test_small_numbers_stay_out_of_the_annex(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    """The same study with the minimum group size at 5 for round 1: three leavers are too few to
    publish their average, so the annex says so instead of printing it."""
    study = two_round_study(session, facilitator, workshop)
    first_round = get_study(session, study["panel"].id).rounds[0].members[0]
    first_round.rule_json = first_round.rule_json.replace('"min_group_size": 3', '"min_group_size": 5')
    session.add(first_round)
    session.commit()
    from codesign.queries.study_snapshot import study_section

    (entry,) = study_section(session, workshop.population_group_id) or []
    assert entry["min_group_size"] == 5
    assert all(o == {"statement": o["statement"], "n_stayed": 8, "n_left": None, "suppressed": True}
               for o in entry["attrition"]["outcomes"])
    # Patients in round 2: 6 invited, 4 started and finished (under 5: not published), so 4 of 6
    # retained (67%) is not published either: it would give back the 4.
    assert entry["participation"][1]["groups"]["Patients"] == {"invited": 6, "started": None, "finished": None,
                                                               "not_invited": 0, "retention": None}


def test_the_annex_change_table_agrees_with_its_verdict(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    """The same study with a minimum group size of 5 in both rounds: round 2 has 4 patients, so
    their +33 points on A is not judged (and not published); clinicians scored B 4 times in round 2,
    so their -10 is not judged either. The verdict may then only count changes the table shows:
    no outcome moved 15 points or more (it used to say 1 while the table showed none)."""
    study = two_round_study(session, facilitator, workshop, min_size="5")
    from codesign.queries.study_snapshot import study_section

    (entry,) = study_section(session, workshop.population_group_id) or []
    (step,) = entry["stability"]
    shown = [o["largest_change_7_9"] for o in step["outcomes"]]
    assert [o["category_changed"] for o in step["outcomes"]].count(True) == 1
    assert not any(c is not None and c >= 15 for c in shown)
    assert "moved by 15 points" not in step["summary"]
    assert step["summary"].startswith("Not stable yet: 1 outcome changed its consensus result.")
    assert "This rests on few people: 2 groups had fewer than 5 people" in step["summary"]
    # The staff page still shows the patients' shares on A, marked as not judged.
    from codesign.web.study_view import study_context

    (page_step,) = study_context(get_study(session, study["panel"].id))["steps"]
    assert any("67% to 100% (too few people to judge)" in cell for row in page_step.rows for cell in row.cells)


def test_a_group_without_a_panel_has_no_study_section(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    from codesign.queries.study_snapshot import study_section

    assert study_section(session, workshop.population_group_id) is None


def test_an_empty_study_says_so_and_participants_are_refused(session: Session, facilitator: User, workshop,  # type: ignore[no-untyped-def]
                                                             client, other_client) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Not <b>started</b>")
    url = f"/panels/{panel.id}/stability"
    join(other_client, workshop.join_code)  # a participant's device
    refused = other_client.get(url)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    sign_in(client, facilitator)
    page = client.get(url)
    assert page.status_code == 200
    assert "This study has no rounds yet, so there is nothing to show." in page.text
    assert "Not &lt;b&gt;started&lt;/b&gt;" in page.text and "<b>started" not in page.text  # escaped
    assert client.get("/panels/999999/stability").status_code == 404
    observer = make_user(session, "observer")
    sign_in(other_client, observer)
    assert other_client.get(url).status_code == 200  # staff may read


def test_a_pooled_round_counts_each_panellist_once_and_online_invites_the_panel(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    """Round 1 runs in a room (workshop one) and online at once, pooled as one study round. The
    panel has 3 patients and 2 clinicians. Room: Asha (panellist 1) and one unmatched patient join;
    both rate every outcome. Online: everyone on the panel is invited (5); Asha rates again there
    (counted once: she is one panellist), Ben (a clinician) rates one outcome of two.
    Study round 1 invited: the 5 panellists + the unmatched room patient = 6 (patients 4, clinicians 2);
    started: Asha, the unmatched patient, Ben = 3; finished: Asha and the unmatched patient = 2."""
    assert workshop.id is not None
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Pooled study")
    assert panel.id is not None
    online = sessions.create_session(session, facilitator, workshop.population_group_id, "Online round", "2026-04-01")
    online.mode = "online"
    for s in (workshop, online):
        s.panel_id = panel.id
        session.add(s)
    pooled = PanelRound(panel_id=panel.id, number=1, title="Priorities, pooled")
    session.add(pooled)
    session.commit()
    people = [panels.add_panellist(session, facilitator, panel.id, f"Patient {i}", f"p{i}@example.com", "patient")
              for i in range(3)]
    people += [panels.add_panellist(session, facilitator, panel.id, f"Clin {i}", f"c{i}@example.com", "clinician")
               for i in range(2)]
    ids = accepted_ids(session, workshop, 2)
    members = []
    for s in (workshop, online):
        assert s.id is not None
        made = rounds.create_round(session, facilitator, s.id, round_form(ids, title="Priorities"))
        made.panel_round_id = pooled.id
        session.add(made)
        session.commit()
        members.append(rounds.open_round(session, facilitator, s.id, made.id or 0, acknowledge_small=True))

    def person(s: WorkshopSession, group: str, panellist: int | None) -> Participant:
        assert s.id is not None
        found = sessions.join_session(session, s.id, group)
        found.panellist_id = panellist
        session.add(found)
        session.commit()
        return found

    def by_link(who: Panellist) -> Participant:  # online, people come by their personal link
        return online_links.start_link(session, who.link_token or "")[1]

    rate(session, members[0].id or 0, person(workshop, "patient", people[0].id), ids, (8, 8))
    rate(session, members[0].id or 0, person(workshop, "patient", None), ids, (7, 3))
    rate(session, members[1].id or 0, by_link(people[0]), ids, (9, 9))
    rate(session, members[1].id or 0, by_link(people[3]), ids, (5,))

    view = get_study(session, panel.id)
    (study_round,) = view.rounds
    assert study_round.label == "Round 1: Priorities, pooled" and len(study_round.members) == 2
    assert study_round.open and study_round.results is None  # pooled results wait for every member to close
    (row,) = view.participation
    assert (row.total.invited, row.total.started, row.total.finished) == (6, 3, 2)
    patients, clinicians = row.groups
    assert (patients.invited, patients.started, patients.finished) == (4, 2, 2)
    assert (clinicians.invited, clinicians.started, clinicians.finished) == (2, 1, 0)
    # Once stored (by the pooled count), the study reads the pooled round's stored results.
    for m, s in zip(members, (workshop, online), strict=True):
        rounds.close_round(session, facilitator, s.id or 0, m.id or 0, confirm_unsent=True)
    session.refresh(pooled)
    assert pooled.results_json  # counted when the last member round closed (services.pooled)
    stored_view = get_study(session, panel.id)
    assert stored_view.rounds[0].results is not None and not stored_view.rounds[0].open
    assert stored_view.rounds[0].results.groups["patient"].n == 2  # Asha once, and the unmatched patient

    # Round 2 runs online only (the study team's trial): only the 5 panellists are asked back, so the
    # unmatched room patient, who finished round 1, neither stays nor leaves. Asha finishes round 2:
    # of the 1 who finished round 1 and was invited again, 1 finished (100%), not 1 of 2 (50%). In the
    # attrition test the unmatched patient is on neither side: on the first outcome Ben (invited, did
    # not finish) is the one who left, on the second nobody left (the old count had 2 and 1).
    assert online.id is not None
    again = rounds.create_round(session, facilitator, online.id, round_form(ids, title="Priorities again"))
    rounds.open_round(session, facilitator, online.id, again.id or 0, acknowledge_small=True)
    rate(session, again.id or 0, by_link(people[0]), ids, (8, 8))
    later = get_study(session, panel.id)
    second = later.participation[1]
    assert (second.total.invited, second.total.finished) == (5, 1)
    assert (second.total.previous_finished, second.total.retained, second.total.retention) == (1, 1, 1.0)
    assert second.total.not_invited == 1
    assert [(a.n_stayed, a.n_left) for a in later.attrition] == [(1, 1), (1, 0)]
    from codesign.web.study_view import study_context

    sentence = study_context(later)["people_sentence"]
    assert "Of the 1 who finished the round before and were invited to this one, 1 finished it (100%)" in sentence
    assert "1 who finished the round before was not invited to this one" in sentence
