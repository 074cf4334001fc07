"""The replication record through HTTP: validation field by field, the derived cost per
inhabitant, the contact's opt-in, the list's filters, and what it cost towns like mine."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Funding, Initiative, Record
from maillage.towns.models import Town
from tests.support.api import bearer
from tests.support.initiatives import LANNION, VALID

# A SIREN whose Luhn key holds (La Poste's neighbour 732829320: Renault), and one that fails.
GOOD_SIREN, BAD_SIREN = "732829320", "732829321"


def population(insee: str) -> int:
    return session.scalar(sa.select(Town.population).where(Town.insee == insee))


def record_count() -> tuple[int, int]:
    return (session.scalar(sa.select(sa.func.count()).select_from(Record)),
            session.scalar(sa.select(sa.func.count()).select_from(Funding)))


@pytest.fixture
def writer(create_user, token_for):
    def make(town: str = LANNION):
        user = create_user(town=town, verified=True)
        return user, bearer(token_for(user))
    return make


def test_a_record_is_saved_and_its_cost_per_inhabitant_derived(client, writer) -> None:
    user, headers = writer()
    record = {"solution": "Copieurs partagés", "supplier_siren": GOOD_SIREN,
              "funding": [{"scheme": "dsil", "amount_eur": 6000},
                          {"scheme": "own-budget", "amount_eur": 4000}],
              "total_cost_eur": 10_000, "duration_months": 6, "results": "Moitié moins.",
              "indicators": [{"name": "Pages imprimées", "value": -48.5, "unit": "%"}],
              "contact_id": user.id}
    response = client.post("/api/v1/initiatives", json={**VALID, "record": record},
                           headers=headers)
    assert response.status_code == 201, response.json
    saved = response.json["record"]
    assert saved["cost_per_inhabitant"] == round(10_000 / population(LANNION), 2)
    assert [line["scheme"] for line in saved["funding"]] == ["dsil", "own-budget"]
    assert saved["contact"]["id"] == user.id
    assert saved["supplier_siren"] == GOOD_SIREN
    # Typed in, the cost per inhabitant is no field of the record.
    patched = client.patch(f"/api/v1/initiatives/{response.json['id']}",
                           json={"record": {"cost_per_inhabitant": 1}}, headers=headers)
    assert patched.status_code == 422
    page = client.get(f"/initiatives/{response.json['id']}")
    assert "Copieurs partagés" in page.text
    assert GOOD_SIREN in page.text


@pytest.mark.parametrize(("record", "field"), [
    ({"supplier_siren": BAD_SIREN}, "supplier_siren"),
    ({"supplier_siren": "12345678"}, "supplier_siren"),
    ({"total_cost_eur": -1}, "total_cost_eur"),
    ({"funding": [{"scheme": "dsil", "amount_eur": -5}]}, "funding"),
    ({"funding": [{"scheme": "loterie", "amount_eur": 5}]}, "funding"),
    ({"funding": [{"scheme": "dsil", "amount_eur": 5}, {"scheme": "dsil", "amount_eur": 6}]},
     "funding"),
    ({"duration_months": -2}, "duration_months"),
])
def test_a_bad_record_is_refused_by_field_and_nothing_changes(client, writer, record,
                                                              field) -> None:
    _user, headers = writer()
    created = client.post("/api/v1/initiatives", json=VALID, headers=headers).json
    before = record_count()
    for response in (
        client.post("/api/v1/initiatives", json={**VALID, "record": record}, headers=headers),
        client.patch(f"/api/v1/initiatives/{created['id']}",
                     json={"title": "Un autre titre", "record": record}, headers=headers),
    ):
        assert response.status_code == 422, response.json
        assert list(response.json["errors"]["json"]["record"]) == [field]
    assert record_count() == before
    session.expire_all()
    assert session.get(Initiative, created["id"]).title == VALID["title"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Initiative)) == 1


def test_only_a_member_sets_themself_as_contact(client, writer, create_user) -> None:
    _user, headers = writer()
    other = create_user(town=LANNION, verified=True)
    response = client.post("/api/v1/initiatives",
                           json={**VALID, "record": {"contact_id": other.id}}, headers=headers)
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]["record"]) == ["contact_id"]
    assert record_count() == (0, 0)
    assert session.scalar(sa.select(sa.func.count()).select_from(Initiative)) == 0


def test_a_replication_carries_its_own_record(client, writer) -> None:
    _user, headers = writer()
    original = client.post("/api/v1/initiatives", json=VALID, headers=headers).json
    town = "29103"
    _other, other_headers = writer(town)
    url = f"/api/v1/initiatives/{original['id']}/replications"
    refused = client.post(url, json={"town": town, "record": {"total_cost_eur": -3}},
                          headers=other_headers)
    assert refused.status_code == 422
    assert record_count() == (0, 0)
    made = client.post(url, json={"town": town, "record": {"total_cost_eur": 5000}},
                       headers=other_headers)
    assert made.status_code == 201, made.json
    assert made.json["record"]["cost_per_inhabitant"] == round(5000 / population(town), 2)
    patched = client.patch(f"{url}/{made.json['id']}", json={"record": {
        "funding": [{"scheme": "detr", "amount_eur": 2500}]}}, headers=other_headers)
    assert patched.status_code == 200, patched.json
    assert patched.json["record"]["funding"][0]["scheme"] == "detr"
    assert patched.json["record"]["total_cost_eur"] == 5000
    # The original's town may not write the replication's record.
    assert client.patch(f"{url}/{made.json['id']}", json={"record": {"total_cost_eur": 1}},
                        headers=headers).status_code == 403


def test_the_openapi_document_describes_the_record(client) -> None:
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    record = next(schema for name, schema in schemas.items() if name.startswith("RecordInput"))
    assert {"supplier_siren", "funding", "total_cost_eur", "contact_id"} <= set(
        record["properties"])


FORM = {"town": LANNION, "title": VALID["title"], "summary": VALID["summary"],
        "body": VALID["body"], "themes": ["sobriete-numerique"], "status": "done"}


def test_the_form_writes_the_record_and_refuses_by_field(client, create_user, sign_in,
                                                         csrf) -> None:
    user = create_user(town=LANNION, verified=True)
    sign_in(user)
    bad = client.post("/initiatives/new", data={
        **FORM, "csrf_token": csrf(), "record_supplier_siren": BAD_SIREN,
        "record_funding_dsil": "-4", "record_total_cost_eur": "900"})
    assert bad.status_code == 422
    assert 'id="record_supplier_siren-error"' in bad.text
    assert 'id="record_funding-error"' in bad.text
    assert session.scalar(sa.select(sa.func.count()).select_from(Initiative)) == 0
    good = client.post("/initiatives/new", data={
        **FORM, "csrf_token": csrf(), "record_supplier_siren": GOOD_SIREN,
        "record_funding_dsil": "400", "record_funding_region": "500",
        "record_total_cost_eur": "900", "record_contact_me": "1",
        "record_solution": "Copieurs partagés"})
    assert good.status_code == 303, good.text
    page = client.get(good.location).text
    assert "Copieurs partagés" in page
    assert user.display_name in page
    edit = client.get(f"{good.location}/edit").text
    assert 'value="400"' in edit
    assert 'name="record_contact_me" value="1" checked' in edit
    # Emptied in the form, the funding and the contact go.
    cleared = client.post(f"{good.location}/edit", data={
        **FORM, "csrf_token": csrf(), "record_total_cost_eur": "900"})
    assert cleared.status_code == 303
    body = client.get(f"/api/v1{good.location}").json["record"]
    assert (body["funding"], body["contact"], body["total_cost_eur"]) == ([], None, 900)
