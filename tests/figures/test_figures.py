"""Figures of networks, each checked against a count made here in plain Python over the
official communes file, for networks built on the real towns with known memberships, labels,
board seats and initiatives."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from maillage.database import session, transaction
from maillage.figures.queries import FIGURES, compute
from maillage.initiatives.models import Initiative, Status
from maillage.networks import operations
from maillage.networks.models import BoardSeat
from maillage.themes.models import Theme
from maillage.towns.operations import COMMUNES

with gzip.open(COMMUNES, "rt", encoding="utf-8") as _file:
    TOWNS: dict[str, dict[str, Any]] = {c["code"]: c for c in json.load(_file)}
SAINT_PIERRE = "97502"  # an overseas collectivity (zone "com") of 5,194 inhabitants


def population(code: str) -> int:
    return TOWNS[code].get("population") or 0


def is_small(code: str) -> bool:
    return 2_500 <= population(code) <= 25_000


def band(code: str) -> str:
    people = population(code)
    return "under-2500" if people < 2_500 else "2500-25000" if people <= 25_000 else "over-25000"


@dataclass
class World:
    """The networks the tests built: members with their year, awards, seats."""

    members: dict[str, dict[str, int | None]]
    awards: dict[tuple[str, int], int]
    seats: dict[str, list[str]]


def write_csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def world(app, tmp_path: Path) -> World:
    """Two networks: "petites-villes", every small town of Brittany plus Brest and
    Saint-Pierre; "villes-internet", one in three of those plus the towns of Corse-du-Sud
    above 1,000 inhabitants. Awards, board seats and initiatives on some of them."""
    breton = sorted(code for code, town in TOWNS.items()
                    if town["departement"] in {"22", "29", "35", "56"} and is_small(code))
    first = {code: (2010 + index % 12 if index % 7 else None)
             for index, code in enumerate([*breton, "29019", SAINT_PIERRE])}
    corsican = sorted(code for code, town in TOWNS.items()
                      if town["departement"] == "2A" and population(code) > 1_000)
    second = {code: 2016 + index % 5 for index, code in enumerate(sorted(first)[::3] + corsican)}
    awards = {}
    for index, code in enumerate(sorted(set(first) | set(second) | {"75056"})):
        if index % 4 == 0:
            awards[(code, 2024)] = index % 5 + 1
        if index % 6 == 0:
            awards[(code, 2025)] = (index // 6) % 5 + 1
    seats = {"petites-villes": ["29019", "29019", breton[0], breton[1], breton[2], "75056",
                                SAINT_PIERRE],
             "villes-internet": [corsican[0], "2A004", "2A004", breton[5]]}
    with transaction():
        networks = {slug: operations.create_network(slug, slug.replace("-", " ").title())
                    for slug in ("petites-villes", "villes-internet", "sans-membres")}
        for slug, members in (("petites-villes", first), ("villes-internet", second)):
            # Half the rows name the town by its SIREN, as networks' own files often do.
            rows = [{"town": TOWNS[code].get("siren") if index % 2 and TOWNS[code].get("siren")
                     else code, "year": year or ""}
                    for index, (code, year) in enumerate(sorted(members.items()))]
            report = operations.import_members(networks[slug],
                                               write_csv(tmp_path / f"{slug}.csv", rows))
            assert (report.created, report.errors) == (len(members), [])
        report = operations.import_labels(write_csv(tmp_path / "labels.csv", [
            {"insee": code, "annee": year, "niveau": level}
            for (code, year), level in awards.items()], delimiter=";"))
        assert (report.created, report.errors) == (len(awards), [])
        for slug, towns in seats.items():
            for index, code in enumerate(towns):
                operations.add_board_seat(None, networks[slug], town=code, role=f"rôle {index}")
    return World({"petites-villes": first, "villes-internet": second, "sans-membres": {}},
                 awards, seats)


def rows_of(name: str, **args: Any) -> list[dict[str, Any]]:
    return compute(name, args).rows


def test_the_bands_are_those_of_the_official_data(app) -> None:
    expected: dict[str, list[int]] = {}
    for code, town in TOWNS.items():
        if town["zone"] != "com":
            totals = expected.setdefault(band(code), [0, 0])
            totals[0] += 1
            totals[1] += population(code)
    rows = rows_of("bands")
    assert {row["band"]: [row["towns"], row["population"]] for row in rows} == expected
    assert [row["band"] for row in rows] == ["under-2500", "2500-25000", "over-25000"]
    assert expected["2500-25000"] == [4_083, 26_308_887]
    assert expected["under-2500"] == [30_424, 17_393_905]
    assert expected["over-25000"] == [368, 24_648_006]

    fine = {row["band"]: row["towns"] for row in rows_of("bands", scale="fine")}
    assert fine["2500-4999"] + fine["5000-9999"] + fine["10000-25000"] == 4_083
    assert fine["5000-9999"] == sum(1 for code, town in TOWNS.items()
                                    if town["zone"] != "com" and 5_000 <= population(code) < 10_000)


def test_members_and_the_people_they_represent(world: World) -> None:
    got = {row["network"]: row for row in rows_of("members")}
    for slug, members in world.members.items():
        small = [code for code in members if is_small(code)]
        assert got[slug] == {
            "network": slug, "network_name": slug.replace("-", " ").title(),
            "members": len(members),
            "population": sum(population(code) for code in members),
            "small_towns": len(small), "small_towns_population": sum(map(population, small))}
    assert got["petites-villes"]["members"] == 334  # 332 small Breton towns, Brest, Saint-Pierre


def test_members_in_a_year_are_those_joined_by_then_or_since_an_unknown_year(world) -> None:
    [row] = rows_of("members", network="petites-villes", year=2014)
    expected = [code for code, year in world.members["petites-villes"].items()
                if year is None or year <= 2014]
    assert row["members"] == len(expected)
    assert 0 < row["members"] < len(world.members["petites-villes"])


def test_overlap_both_ways(world: World) -> None:
    got = {(row["network"], row["other"]): row for row in rows_of("overlap")}
    assert len(got) == 6
    for a, a_members in world.members.items():
        for b, b_members in world.members.items():
            if a == b:
                continue
            both = len(set(a_members) & set(b_members))
            assert got[(a, b)]["in_other"] == both
            assert got[(a, b)]["members"] == len(a_members)
            assert got[(a, b)]["share"] == (round(both / len(a_members), 4) if a_members
                                            else None)
    assert 0 < got[("petites-villes", "villes-internet")]["share"] < 1
    only = rows_of("overlap", network="sans-membres")
    assert {(row["network"], row["other"]) for row in only} == {
        ("sans-membres", "petites-villes"), ("sans-membres", "villes-internet"),
        ("petites-villes", "sans-membres"), ("villes-internet", "sans-membres")}


@pytest.mark.parametrize("year", [None, 2024, 2025])
def test_labelled_members_at_least_once_and_by_best_level(world: World, year) -> None:
    got = {(row["network"], row["level"]): row for row in rows_of(
        "labels", **({"year": year} if year else {}))}
    for slug, members in world.members.items():
        if not members:
            continue
        if year:
            members = {code: since for code, since in members.items()
                       if since is None or since <= year}
        best: dict[str, int] = {}
        for (code, award_year), level in world.awards.items():
            if code in members and (year is None or award_year == year):
                best[code] = max(level, best.get(code, 0))
        assert got[(slug, "any")]["towns"] == len(best)
        assert got[(slug, "any")]["share"] == round(len(best) / len(members), 4)
        for level in range(1, 6):
            count = sum(1 for value in best.values() if value == level)
            assert got[(slug, str(level))]["towns"] == count
            assert got[(slug, str(level))]["members"] == len(members)
    assert got[("petites-villes", "any")]["towns"] > 0


def test_board_seats_by_population_band(world: World) -> None:
    got = {(row["network"], row["band"]): row for row in rows_of("board")}
    for slug, towns in world.seats.items():
        for key in ("under-2500", "2500-25000", "over-25000"):
            seats = sum(1 for code in towns if band(code) == key)
            assert got[(slug, key)]["seats"] == seats
            assert got[(slug, key)]["share"] == round(seats / len(towns), 4)
    # Saint-Pierre (5,194 inhabitants) sits in the small-town band: the seat counts.
    assert got[("petites-villes", "2500-25000")]["seats"] == 4


def test_reach_by_band_and_by_department_leaves_overseas_collectivities_out(world) -> None:
    by_band = {(row["network"], row["area"]): row for row in rows_of("reach")}
    by_department = {(row["network"], row["area"]): row
                     for row in rows_of("reach", by="department", network="petites-villes")}
    members = world.members["petites-villes"]
    for key in ("under-2500", "2500-25000", "over-25000"):
        towns = [code for code, town in TOWNS.items() if town["zone"] != "com"
                 and band(code) == key]
        reached = [code for code in towns if code in members]
        row = by_band[("petites-villes", key)]
        assert (row["towns"], row["members"]) == (len(towns), len(reached))
        assert row["share"] == round(len(reached) / len(towns), 4)
        assert row["members_population"] == sum(map(population, reached))
    assert by_band[("petites-villes", "2500-25000")]["members"] == len(members) - 2
    finistere = [code for code, town in TOWNS.items() if town["departement"] == "29"]
    row = by_department[("petites-villes", "29")]
    assert (row["area_name"], row["towns"]) == ("Finistère", len(finistere))
    assert row["members"] == sum(1 for code in finistere if code in members)
    assert ("petites-villes", "975") not in by_department
    assert {network for network, _ in by_department} == {"petites-villes"}


def test_initiatives_per_theme_and_month(world, create_user) -> None:
    author = create_user()
    themes = {theme.slug: theme for theme in session.query(Theme)}
    slugs = sorted(themes)[:3]
    posted = [("29019", datetime(2025, 1, 31, 23, 30, tzinfo=UTC), slugs[:2], False),
              ("29019", datetime(2025, 2, 1, 0, 30, tzinfo=UTC), slugs[:1], False),
              ("2A004", datetime(2025, 2, 14, tzinfo=UTC), slugs[1:3], False),
              ("75056", datetime(2024, 12, 1, tzinfo=UTC), slugs[:1], False),
              ("29019", datetime(2025, 2, 2, tzinfo=UTC), slugs[:1], True)]
    with transaction():
        for town, created, theme_slugs, hidden in posted:
            session.add(Initiative(
                town_insee=town, author_id=author.id, title="Une initiative", summary="s",
                body="b", body_html="<p>b</p>", status=Status.DONE, created_at=created,
                updated_at=created, hidden_at=created if hidden else None,
                themes=[themes[slug] for slug in theme_slugs]))

    def expected(network: str | None, year: int | None) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for town, created, theme_slugs, hidden in posted:
            if hidden or (network and town not in world.members[network]) or \
                    (year and created.year != year):
                continue
            for slug in theme_slugs:
                key = (created.strftime("%Y-%m"), slug)
                counts[key] = counts.get(key, 0) + 1
        return counts

    for network, year in ((None, None), ("petites-villes", None), ("villes-internet", 2025),
                          (None, 2024)):
        args = {key: value for key, value in (("network", network), ("year", year)) if value}
        got = {(row["month"], row["theme"]): row["initiatives"]
               for row in rows_of("initiatives", **args)}
        assert got == expected(network, year), (network, year)
    assert expected(None, None)[("2025-02", slugs[0])] == 1


def test_the_api_gives_json_and_csv(world, client) -> None:
    listing = client.get("/api/v1/figures").json
    assert {figure["name"] for figure in listing} >= {"bands", "members", "overlap", "labels",
                                                      "board", "reach", "initiatives"}
    members = client.get("/api/v1/figures/members?network=petites-villes").json
    assert members["rows"][0]["members"] == len(world.members["petites-villes"])
    assert [(column["key"], column["kind"]) for column in members["columns"]][:3] == [
        ("network", "slug"), ("network_name", "text"), ("members", "count")]
    response = client.get("/api/v1/figures/bands?format=csv")
    assert response.mimetype == "text/csv"
    assert 'filename="bands.csv"' in response.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert lines[1] == {"band": "2500-25000", "towns": "4083", "population": "26308887"}


def test_the_api_refuses_bad_arguments_field_by_field(world, client) -> None:
    cases = [("/api/v1/figures/bands?year=2024", "year"),
             ("/api/v1/figures/members?network=nope", "network"),
             ("/api/v1/figures/reach?by=region", "by"),
             ("/api/v1/figures/labels?year=12", "year"),
             ("/api/v1/figures/bands?format=xml", "format")]
    for url, field in cases:
        response = client.get(url)
        assert response.status_code == 422, url
        [location] = response.json["errors"].values()
        assert field in location, (url, response.json)
    missing = client.get("/api/v1/figures/nothing")
    assert missing.status_code == 404
    assert "GET /api/v1/figures lists them" in missing.json["message"]


def test_board_seats_are_kept_by_admins_only(world, client, sign_in, create_user) -> None:
    sign_in(create_user("agent@example.org", town="29103", verified=True))
    refused = client.post("/api/v1/networks/petites-villes/board-seats",
                          json={"town": "29103", "role": "trésorier"},
                          headers={"X-CSRFToken": _csrf(client)})
    assert refused.status_code == 403
    assert client.get("/api/v1/networks/petites-villes/board-seats").status_code == 403
    before = session.query(BoardSeat).count()

    sign_in(create_user("admin@example.org", admin=True))
    token = _csrf(client)
    bad = client.post("/api/v1/networks/petites-villes/board-seats",
                      json={"town": "99999", "role": ""}, headers={"X-CSRFToken": token})
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"role"}
    unknown = client.post("/api/v1/networks/petites-villes/board-seats",
                          json={"town": "00000", "role": "trésorier"},
                          headers={"X-CSRFToken": token})
    assert (unknown.status_code, unknown.json["errors"]["json"]) == (
        422, {"town": ["No town has the INSEE code or SIREN 00000."]})
    assert session.query(BoardSeat).count() == before
    added = client.post("/api/v1/networks/petites-villes/board-seats",
                        json={"town": TOWNS["29103"]["siren"], "role": "trésorier",
                              "person_name": "Anne Le Gall"}, headers={"X-CSRFToken": token})
    assert added.status_code == 201
    assert (added.json["town"]["insee"], added.json["person_name"]) == ("29103", "Anne Le Gall")
    seats = client.get("/api/v1/networks/petites-villes/board-seats").json
    assert len(seats) == len(world.seats["petites-villes"]) + 1
    small = {row["band"]: row["seats"] for row in rows_of("board", network="petites-villes")}
    assert small["2500-25000"] == 5
    gone = client.delete(f"/api/v1/board-seats/{added.json['id']}",
                         headers={"X-CSRFToken": token})
    assert gone.status_code == 204
    assert session.query(BoardSeat).count() == before


def _csrf(client) -> str:
    page = client.get("/sign-in").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def test_the_page_draws_each_figure_without_script_beside_its_table(world, client) -> None:
    from html.parser import HTMLParser

    response = client.get("/figures?network=petites-villes&scale=fine")
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    class Outline(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []
            self.ids: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))
            self.ids += [value for name, value in attrs if name == "id" and value]

    outline = Outline()
    outline.feed(page)
    charts = [attrs for tag, attrs in outline.tags if tag == "svg"]
    assert len(charts) == len(FIGURES)
    for attrs in charts:
        assert attrs["role"] == "img"
        title, desc = attrs["aria-labelledby"].split()
        assert {title, desc} <= set(outline.ids)
    assert len(outline.ids) == len(set(outline.ids))
    assert sum(1 for tag, _ in outline.tags if tag == "caption") == len(FIGURES)
    assert not any(tag == "script" and "src" not in attrs for tag, attrs in outline.tags)
    assert '<title id="members-title">Les membres des réseaux</title>' in page
    # Brest and the 332 small Breton towns, with the fine bands in words.
    assert '<th scope="row" class="text">Petites Villes</th><td class="number">334</td>' in page
    assert "2\u202f500 à 4\u202f999" in page  # the reader's numbers: a narrow space in French
    assert 'href="/api/v1/figures/board?format=csv&amp;network=petites-villes&amp;scale=fine"' \
        in page
    assert 'href="/figures">Chiffres</a>' in page


def test_the_page_explains_bad_filters(world, client) -> None:
    response = client.get("/figures?year=12&network=nope&scale=huge")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "Must be one of: coarse, fine." in page
    unknown = client.get("/figures?network=nope")
    assert unknown.status_code == 422
    assert "No network has the slug nope." in unknown.get_data(as_text=True)
