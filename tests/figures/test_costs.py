"""What it cost towns like mine, on a seeded set whose medians and quartiles are worked out by
hand, through the API's figure, the initiative's page and the list's filters."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from maillage.database import session, utcnow
from maillage.initiatives.models import Initiative
from maillage.towns.models import Town
from tests.support.api import bearer

THEME = "sobriete-numerique"


def towns_between(low: int, high: int, count: int) -> list[Town]:
    return list(session.scalars(sa.select(Town).where(Town.population.between(low, high))
                                .order_by(Town.insee).limit(count)))


@pytest.fixture
def seeded(client, create_user, token_for):
    """Four towns of 5,000 to 9,999 inhabitants paid 1, 2, 3 and 10 euros an inhabitant (the
    first through a "we did it too" of the second's initiative), two towns of 10,000 to
    25,000 paid 5 and 7."""
    middle, large = towns_between(5_000, 9_999, 4), towns_between(10_000, 25_000, 2)

    def post(town: Town, per_inhabitant: int, funding: list[str], status: str = "done",
             solution: str = "Copieurs partagés") -> tuple[int, dict[str, str]]:
        headers = bearer(token_for(create_user(town=town.insee, verified=True)))
        record = {"total_cost_eur": per_inhabitant * town.population, "solution": solution,
                  "funding": [{"scheme": s, "amount_eur": 100} for s in funding]}
        response = client.post("/api/v1/initiatives", headers=headers, json={
            "town": town.insee, "title": f"Sobriété à {town.name}", "summary": "Moins.",
            "body": "Moins d'imprimantes.", "themes": [THEME], "status": status,
            "record": record})
        assert response.status_code == 201, response.json
        return response.json["id"], headers

    ids = {}
    ids["middle-2"], _ = post(middle[1], 2, ["dsil", "detr"])
    ids["middle-3"], _ = post(middle[2], 3, ["dsil"], solution="Logiciel Libre Office")
    ids["middle-10"], _ = post(middle[3], 10, ["feder"], status="in_progress")
    ids["large-5"], _ = post(large[0], 5, ["region"])
    ids["large-7"], _ = post(large[1], 7, ["region"])
    replicator = bearer(token_for(create_user(town=middle[0].insee, verified=True)))
    replicated = client.post(f"/api/v1/initiatives/{ids['middle-2']}/replications",
                             headers=replicator, json={"town": middle[0].insee, "record": {
                                 "total_cost_eur": middle[0].population,
                                 "funding": [{"scheme": "dsil", "amount_eur": 1},
                                             {"scheme": "detr", "amount_eur": 1}]}})
    assert replicated.status_code == 201, replicated.json
    return {"ids": ids, "middle": middle, "large": large}


def test_the_figure_gives_quartiles_and_schemes_from_three_towns(client, seeded) -> None:
    response = client.get(f"/api/v1/figures/costs?theme={THEME}")
    assert response.status_code == 200, response.json
    rows = response.json["rows"]
    # Two towns of 10,000 to 25,000 make no figure; four of 5,000 to 9,999 paid 1, 2, 3, 10:
    # the median is (2 + 3) / 2; the inclusive quartiles sit at positions 0.75 and 2.25 of the
    # sorted costs: 1 + 0.75 × (2 - 1) and 3 + 0.25 × (10 - 3).
    assert rows == [{"theme": THEME, "theme_name": "Sobriété numérique", "band": "5000-9999",
                     "towns": 4, "first_quartile": 1.75, "median": 2.5, "third_quartile": 4.75,
                     "schemes": "dsil (3), detr (2), feder (1)",
                     "scheme_names": "DSIL (dotation de soutien à l'investissement local) (3), "
                                     "DETR (dotation d'équipement des territoires ruraux) (2), "
                                     "FEDER (fonds européen de développement régional) (1)"}]
    csv = client.get(f"/api/v1/figures/costs?theme={THEME}&format=csv").text
    assert "sobriete-numerique,Sobriété numérique,5000-9999,4,1.75,2.5,4.75" in csv
    assert client.get("/api/v1/figures/costs?theme=cybersecurite").json["rows"] == []


def test_the_page_shows_towns_like_the_reader(client, seeded, create_user, sign_in) -> None:
    page = client.get(f"/initiatives/{seeded['ids']['middle-3']}").text
    assert 'data-theme="sobriete-numerique"' in page
    assert "2,50" in page
    # A member of a large town reads the same initiative: two towns are no figure.
    sign_in(create_user(town=seeded["large"][0].insee, verified=True))
    page = client.get(f"/initiatives/{seeded['ids']['middle-3']}").text
    assert 'data-theme="sobriete-numerique"' not in page
    assert "cost-summary-none" in page


def test_under_three_towns_nothing_is_shown(client, seeded) -> None:
    hidden = seeded["ids"]["middle-10"]
    session.get(Initiative, hidden).hidden_at = utcnow()
    session.commit()
    # Three towns are left of 5,000 to 9,999 (1, 2, 3): the median is 2, the quartiles 1.5
    # and 2.5.
    rows = client.get(f"/api/v1/figures/costs?theme={THEME}").json["rows"]
    assert [(r["towns"], r["first_quartile"], r["median"], r["third_quartile"])
            for r in rows] == [(3, 1.5, 2.0, 2.5)]


@pytest.mark.parametrize(("query", "expected"), [
    ("funding=feder", ["middle-10"]),
    ("funding=dsil", ["middle-3", "middle-2"]),
    ("solution=libre office", ["middle-3"]),
    ("cost_per_inhabitant_min=3&cost_per_inhabitant_max=7", ["large-7", "large-5", "middle-3"]),
    ("population_band=10000-25000", ["large-7", "large-5"]),
    ("population_band=5000-9999&status=in_progress", ["middle-10"]),
    ("funding=region&cost_per_inhabitant_max=6", ["large-5"]),
    ("q=imprimantes&funding=dsil&cost_per_inhabitant_min=2.5", ["middle-3"]),
])
def test_the_filters_find_the_right_initiatives(client, seeded, query, expected) -> None:
    response = client.get(f"/api/v1/initiatives?{query}")
    assert response.status_code == 200, response.json
    names = {value: key for key, value in seeded["ids"].items()}
    assert [names[item["id"]] for item in response.json["items"]] == expected
    page = client.get(f"/initiatives?{query}")
    assert page.status_code == 200
    shown = {key for key, initiative_id in seeded["ids"].items()
             if f'href="/initiatives/{initiative_id}"' in page.text}
    assert shown == set(expected)


@pytest.mark.parametrize("query", ["funding=loterie", "cost_per_inhabitant_min=-1",
                                   "population_band=huge"])
def test_a_bad_filter_is_a_422_naming_it(client, query) -> None:
    response = client.get(f"/api/v1/initiatives?{query}")
    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == [query.split("=")[0]]
