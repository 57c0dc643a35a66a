"""Bad numbers and NULs never give a 500: an address that is no page is 404, a bad form value is a
422 naming the field. Run on PostgreSQL too, where an int4 overflow or a NUL in text is an error."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign import queries
from codesign.models import BallotAnswer, Participant, Role, Round, User
from codesign.services import framework_versions, proposals
from tests.conftest import csrf_from, join, make_user, post_form, sign_in
from tests.framework_helpers import ready_draft
from tests.round_helpers import accepted_ids, open_round

BIG_IDS = ["1234567890", "2147483648", "99999999999999999999", "9" * 400]
PAGES = ["/groups/{id}", "/groups/{id}/framework", "/groups/{id}/audit", "/groups/{id}/sessions/new", "/sessions/{id}",
         "/sessions/{id}/projector", "/sessions/{id}/audit", "/sessions/{id}/cards.pdf", "/sessions/1/outcomes/{id}",
         "/sessions/1/rounds/{id}", "/sessions/{id}/rounds/new", "/sessions/1/rounds/{id}/results.json",
         "/frameworks/{id}", "/frameworks/{id}/payment", "/frameworks/{id}/outcomes/1", "/frameworks/1/outcomes/{id}",
         "/frameworks/{id}/export/json", "/s/ABCD2345/rounds/{id}", "/s/ABCD2345/rounds/1/q/{id}"]
NOT_NUMBERS = ["\u00b2", "\u0663", "1_0", "-1", "9" * 10, "9" * 5000]


def _admin(client: TestClient, session: Session) -> User:
    admin = make_user(session, Role.admin)
    sign_in(client, admin)
    return admin


@pytest.mark.parametrize("big", BIG_IDS)
def test_ids_beyond_nine_digits_are_no_such_page(client: TestClient, session: Session, big: str) -> None:
    _admin(client, session)
    for page in PAGES:
        response = client.get(page.replace("{id}", big))
        assert response.status_code == 404, page
        assert "Page not found" in response.text


def test_a_post_to_an_id_beyond_nine_digits_is_no_such_page(client: TestClient, session: Session) -> None:
    _admin(client, session)
    token = csrf_from(client, "/groups/new")
    for url in ("/sessions/99999999999/close", "/frameworks/2147483648/freeze", "/groups/1234567890/weights"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url


@pytest.mark.parametrize("bad", NOT_NUMBERS)
def test_shortlist_ids_that_are_not_ids_are_refused_with_the_field(client: TestClient, session: Session,
                                                                   facilitator: User, workshop, bad: str) -> None:  # type: ignore[no-untyped-def]
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    for action, field in (("build", "round"), ("include", "item"), ("add", "outcome"), ("move", "item")):
        response = post_form(client, f"{url}/shortlist/{action}", {field: bad, "include": "yes", "reason": "r",
                                                                   "direction": "up"}, token_from=url)
        assert response.status_code == 422, (action, bad)
        assert "Choose one of the options" in response.text


@pytest.mark.parametrize("bad", ["\u00b2", "\u0663", "99999999999", "9" * 5000, "%00"])
def test_compare_with_a_bad_version_is_not_found(client: TestClient, session: Session, facilitator: User,
                                                 workshop, bad: str) -> None:  # type: ignore[no-untyped-def]
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    sign_in(client, facilitator)
    response = client.get(f"/frameworks/{version.id}/compare", params={"with": bad} if bad != "%00" else None)
    if bad == "%00":
        response = client.get(f"/frameworks/{version.id}/compare?with=%00")
        assert response.status_code == 400
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("weight", ["\u0663", "nan", "inf", "1e3", "1_0", "9" * 5000])
def test_stakeholder_weights_are_plain_numbers(client: TestClient, session: Session, facilitator: User, workshop,  # type: ignore[no-untyped-def]
                                               engine: Engine, weight: str) -> None:
    sign_in(client, facilitator)
    group = workshop.population_group_id
    form = {"weight-patient": weight, "weight-carer": "1", "weight-clinician": "1", "weight-commissioner": "1"}
    response = post_form(client, f"/groups/{group}/weights", form, token_from=f"/groups/{group}")
    assert response.status_code == 422
    assert "Enter a number for Patients, like 1" in response.text
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT weight) FROM stakeholder_group")).scalar_one() == 1


def test_money_and_weights_refuse_unicode_and_overflow(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                       workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}/payment"
    for value, message in (("9" * 5000, "Enter the annual contract"), ("\u0663", "Enter the annual contract")):
        response = post_form(client, f"{url}/terms", {"contract_value": value, "mechanism": "withhold",
                                                      "year-0-label": "2026/27", "year-0-share": "10"}, token_from=url)
        assert response.status_code == 422 and message in response.text, value
    assert queries.get_version(session, version.id).contract_value_pence == 1_200_000_000
    # A contract of £120m (over PostgreSQL's 32-bit integer of pence): kept exactly.
    big = post_form(client, f"{url}/terms", {"contract_value": "£120,000,000.01", "mechanism": "withhold",
                                             "year-0-label": "2026/27", "year-0-share": "10"}, token_from=url)
    assert big.status_code == 303
    assert queries.get_version(session, version.id).contract_value_pence == 12_000_000_001
    items = queries.get_version_view(session, version.id).items
    before = [i.item.payment_weight_bp for i in items]
    response = post_form(client, f"{url}/weights", {f"weight-{items[0].item.id}": "\u0665", "weight-\u00b2": "5",
                                                    "weight-99999999999": "5"}, token_from=url)
    assert response.status_code == 422 and "Enter a percentage between 0 and 100" in response.text
    assert [i.item.payment_weight_bp for i in queries.get_version_view(session, version.id).items] == before
    for level in ("\u0663", "9" * 5000, "nan", "-5"):
        assert client.get(url, params={"level": level}).status_code == 200


def test_projector_page_number_is_a_plain_number(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                 workshop) -> None:
    _, found = ready_draft(session, facilitator, workshop)
    sign_in(client, facilitator)
    for page in ("\u00b2", "\u0663", "9" * 5000, "0", "-1", "99999999999"):
        response = client.get(f"/sessions/{workshop.id}/rounds/{found.id}/projector", params={"page": page})
        assert response.status_code == 200, page


def test_merging_with_ids_that_are_not_ids_changes_nothing(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                           facilitator: User, workshop) -> None:
    outcome = proposals.add_outcome(session, facilitator, workshop.id, "Fewer falls at home")
    sign_in(client, facilitator)
    url = f"/sessions/{workshop.id}/outcomes/{outcome.id}"
    response = post_form(client, f"{url}/merge", {"merge": "\u00b2", "reason": "same"}, token_from=url)
    assert response.status_code == 422


# ---- NUL characters: PostgreSQL refuses them in text, so none may reach it -------------------------


def test_nul_in_staff_forms_is_cleaned_or_refused(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                  engine: Engine) -> None:
    sign_in(client, facilitator)
    made = post_form(client, "/groups/new", {"name": "Older people\x00 living with frailty", "description": "\x00",
                                             "template": ""}, token_from="/groups/new")
    assert made.status_code == 303
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM population_group")).scalar_one() == (
            "Older people living with frailty")
    refused = post_form(client, "/groups/new", {"name": "X", "template": "older\x00"}, token_from="/groups/new")
    assert refused.status_code == 422


def test_nul_in_a_definition_or_terms_is_cleaned(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                 workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    item = queries.get_version_view(session, version.id).items[0].item.id
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}/outcomes/{item}"
    saved = post_form(client, url, {"indicator_name": "Falls\x00", "population": "Over 65\x00", "baseline_value": "4\x00",
                                    "data_source": "QOF\x00"}, token_from=url)
    assert saved.status_code == 303
    definition = queries.get_version_view(session, version.id).items[0].definition
    assert (definition["indicator_name"], definition["population"], definition["baseline_value"],
            definition["data_source"]) == ("Falls", "Over 65", "4", "QOF")
    terms = post_form(client, f"/frameworks/{version.id}/payment/terms",
                      {"title": "Framework\x00", "contract_value": "1,000\x00", "mechanism": "withhold\x00",
                       "year-0-label": "2026/27\x00", "year-0-share": "10\x00"},
                      token_from=f"/frameworks/{version.id}/payment")
    assert terms.status_code == 422  # the mechanism is not one of the two; nothing reached the database


def test_nul_in_a_participant_proposal_is_removed(client: TestClient, workshop, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    response = post_form(client, f"/s/{workshop.join_code}/proposals",
                         {"statement": "A nurse\x00 who knows me", "description": "\x00"},
                         token_from=f"/s/{workshop.join_code}")
    assert response.status_code == 303
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outcome WHERE statement = 'A nurse who knows me'")).scalar_one() == 1


@pytest.mark.parametrize("url", ["/p/%00", "/p/abc%00def", "/j/%00", "/s/%00", "/signin?next=%00", "/join?code=%00"])
def test_nul_in_an_address_is_refused_before_the_database(client: TestClient, url: str) -> None:
    assert client.get(url).status_code in (400, 404)


def test_nul_in_an_imported_file_is_refused_with_line_and_column(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                 facilitator: User, workshop, engine: Engine) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    csv_text = f"participant,group,outcome,value\nS-1,patient,{ids[0]},9\nS-\x002,patient,{ids[0]},8\n"
    response = client.post(f"{page}/import", data={"csrf_token": csrf_from(client, page)},
                           files={"ballots": ("pa\x00per.csv", csv_text.encode(), "text/csv")})
    assert response.status_code == 422
    assert "line 3, column 1 (participant): contains a control character (U+0000)" in response.text
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM participant")).scalar_one() == 0
    good = f"participant,group,outcome,value\nS-1,patient,{ids[0]},9\n"
    # By hand: httpx would percent-encode the NUL in the file name, a hostile client need not.
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_from(client, page)}\r\n'
            '--b\r\nContent-Disposition: form-data; name="ballots"; filename="pa\x00per\u202e.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{good}\r\n--b--\r\n").encode()
    response = client.post(f"{page}/import", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 303
    assert "Imported 1 ballot from paper.csv (1 answer), a new one." in client.get(page).text  # not "1 ballots"


SUPERSCRIPT, HUGE = "²", "9" * 5000


def test_bad_numbers_on_the_voting_pages_are_refused_never_500(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    from tests.round_helpers import accepted_ids, open_round

    ids = accepted_ids(session, workshop, 3)
    rating = open_round(session, facilitator, workshop, ids)
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="2")
    points = open_round(session, facilitator, workshop, ids, method="points", budget="5")
    pairs = open_round(session, facilitator, workshop, ids, method="pairwise")
    join(client, workshop.join_code, "patient")
    page = client.get(f"/s/{workshop.join_code}").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    base = f"/s/{workshop.join_code}/rounds"
    posts = [
        (f"{base}/{rating.id}/q/1", {"value": SUPERSCRIPT, "key": "bad-number-0001"}),
        (f"{base}/{rating.id}/q/1", {"value": HUGE, "key": "bad-number-0002"}),
        (f"{base}/{ranking.id}/draft", {"order": f"{SUPERSCRIPT},{ids[0]},{HUGE}"}),
        (f"{base}/{points.id}/draft", {"alloc": f"{SUPERSCRIPT}:1,{ids[0]}:{HUGE}", "set": f"{ids[1]}:{SUPERSCRIPT}"}),
        (f"{base}/{pairs.id}/pair", {"left": SUPERSCRIPT, "right": HUGE, "choice": "left", "key": "bad-number-0003"}),
        (f"{base}/{rating.id}/q/1", {"value": "5", "key": "bad\x00number"}),
    ]
    for url, data in posts:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code in (303, 404, 409, 422), (url, data, response.status_code)
    assert session.exec(select(BallotAnswer)).all() == []


def test_bad_ids_in_the_round_form_are_refused_with_the_field(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    sign_in(client, facilitator)
    url = f"/sessions/{workshop.id}/rounds/new"
    for outcomes, feedback in ((SUPERSCRIPT, ""), ("12345678901", "12345678901"), ("1", SUPERSCRIPT)):
        response = post_form(client, url, {"title": "T", "method": "rating", "outcomes": outcomes,
                                           "feedback_round_id": feedback}, token_from=url)
        assert response.status_code == 422, (outcomes, feedback)
    assert session.exec(select(Round)).all() == []


def test_a_nul_in_the_group_chosen_when_joining_is_cleaned(client: TestClient, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    code = workshop.join_code
    proved = post_form(client, f"/j/{code}", {"code": code}, token_from=f"/j/{code}")
    assert proved.status_code == 303
    odd = post_form(client, proved.headers["location"], {"group": "carer\x00\x00" + "x" * 5000}, token_from="/join")
    assert odd.status_code == 422 and "Choose which group" in odd.text  # no such group: refused, not a 500
    cleaned = post_form(client, proved.headers["location"], {"group": "patient\x00", "first_name": "Amara"},
                        token_from="/join")
    assert cleaned.status_code == 303  # the NUL is removed, as in every other text field
    assert [p.first_name for p in session.exec(select(Participant))] == ["Amara"]
