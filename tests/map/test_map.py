"""The map page: the numbers of each department in the table and in the titles of its
outline, as a visitor may read them, its shade, and its link to the department's
initiatives; all of it in a page drawn on the server, light enough for a phone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from maillage.accounts.models import Role, User
from maillage.database import session, transaction, utcnow
from maillage.help import operations as help_operations
from maillage.help.models import HelpRequest, Status
from maillage.initiatives import operations as initiatives
from maillage.initiatives.models import Initiative
from maillage.networks.models import NetworkMembership
from maillage.networks.operations import create_network

LANNION, LAMBALLE, LANDERNEAU, AJACCIO, SAINT_DENIS = "22113", "22093", "29103", "2A004", "97411"


@dataclass
class Page:
    """What the map page shows: its outlines by department, those drawn again in the inset,
    and its table's rows."""

    links: dict[str, dict[str, str]] = field(default_factory=dict)
    inset: list[dict[str, str]] = field(default_factory=list)
    rows: dict[str, list[str]] = field(default_factory=dict)


class MapParser(HTMLParser):
    """Each link of the SVG (its href, class and title) and each row of the table (its cells'
    text, by the department's code), from the page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self.in_svg = False
        self.link: dict[str, str] | None = None
        self.row: list[str] | None = None
        self.text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "svg":
            self.in_svg = True
        elif tag == "a" and self.in_svg:
            self.link = values
        elif tag == "path" and self.link is not None:
            self.link["d"] = values["d"]
        elif (tag == "title" and self.link is not None) \
                or (tag in ("th", "td") and self.row is not None):
            self.text = []
        elif tag == "tr":
            self.row = []
        elif tag == "a" and self.row is not None:
            self.row.append(values["href"])

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg = False
        elif tag == "title" and self.link is not None:
            self.link["title"], self.text = "".join(self.text or ()), None
        elif tag == "a" and self.link is not None:
            code = self.link["href"].rpartition("=")[2]
            if code in self.page.links:
                self.page.inset.append(self.link)
            else:
                self.page.links[code] = self.link
            self.link = None
        elif tag in ("th", "td") and self.row is not None:
            self.row.append("".join(self.text or ()).strip())
            self.text = None
        elif tag == "tr" and self.row is not None:
            if len(self.row) == 6:  # the department's link, name, code and three numbers
                self.page.rows[self.row[2]] = self.row
            self.row = None


def read(client, query: str = "") -> Page:
    response = client.get(f"/map{query}")
    assert response.status_code == 200
    parser = MapParser()
    parser.feed(response.get_data(as_text=True))
    return parser.page


def _publish(author: User, town: str, title: str) -> int:
    return initiatives.publish_initiative(session.get(User, author.id), town=town, title=title,
                                          summary="En bref.", body="Le récit.",
                                          themes=["cybersecurite"]).id


def _ask(author: User, town: str, title: str, confidential: bool = False) -> HelpRequest:
    return help_operations.ask_for_help(session.get(User, author.id), town=town, title=title,
                                        body="Comment faire ?", themes=["cybersecurite"],
                                        confidential=confidential)


@pytest.fixture
def seeded(create_user) -> dict[str, list[int]]:
    """Côtes-d'Armor: 2 initiatives (a third hidden), 2 towns of the networks (Lannion in
    both), 1 open request (another closed, a confidential one open); Finistère: 1
    initiative, 1 town, 1 open request (another hidden); Corse-du-Sud: 1 initiative;
    La Réunion, not drawn: 1 initiative, 1 town. Returns the initiatives' ids by department."""
    authors = {town: create_user(town=town, role=Role.AGENT, verified=True)
               for town in (LANNION, LANDERNEAU, AJACCIO, SAINT_DENIS)}
    with transaction():
        ids = {"22": [_publish(authors[LANNION], LANNION, f"Initiative {n} de Lannion")
                      for n in range(3)],
               "29": [_publish(authors[LANDERNEAU], LANDERNEAU, "Initiative de Landerneau")],
               "2A": [_publish(authors[AJACCIO], AJACCIO, "Initiative d'Ajaccio")],
               "974": [_publish(authors[SAINT_DENIS], SAINT_DENIS, "Initiative de Saint-Denis")]}
        session.get(Initiative, ids["22"].pop()).hidden_at = utcnow()
        first, second = create_network("premier", "Premier"), create_network("second", "Second")
        for network, town in ((first, LANNION), (first, LAMBALLE), (second, LANNION),
                              (first, LANDERNEAU), (second, SAINT_DENIS)):
            session.add(NetworkMembership(network_id=network.id, town_insee=town))
        _ask(authors[LANNION], LANNION, "Quel hébergeur ?")
        _ask(authors[LANNION], LANNION, "Déjà réglée").status = Status.CLOSED
        _ask(authors[LANNION], LANNION, "Une attaque en cours", confidential=True)
        _ask(authors[LANDERNEAU], LANDERNEAU, "Quel logiciel ?")
        _ask(authors[LANDERNEAU], LANDERNEAU, "Une demande masquée").hidden_at = utcnow()
    return ids


def test_the_table_and_the_titles_give_each_departments_numbers(seeded, client) -> None:
    page = read(client)
    assert page.rows["22"][1:] == ["Côtes-d'Armor", "22", "2", "2", "1"]
    assert page.rows["29"][1:] == ["Finistère", "29", "1", "1", "1"]
    assert page.rows["2A"][1:] == ["Corse-du-Sud", "2A", "1", "0", "0"]
    assert page.rows["01"][1:] == ["Ain", "01", "0", "0", "0"]
    # Overseas: in the table, not on the map.
    assert page.rows["974"][1:] == ["La Réunion", "974", "1", "1", "0"]
    assert "974" not in page.links
    assert len(page.rows) == 109  # the departments and overseas collectivities
    assert len(page.links) == 96
    assert page.links["22"]["title"] == ("Côtes-d'Armor (22) : 2 initiatives, 2 communes du "
                                         "réseau, 1 demande d'aide ouverte")
    assert page.links["2A"]["title"] == ("Corse-du-Sud (2A) : 1 initiative, 0 communes du "
                                         "réseau, 0 demandes d'aide ouvertes")


def test_a_confidential_request_counts_for_nobody(seeded, client, create_user, sign_in) -> None:
    # A moderator may open it, and still the map is everybody's.
    sign_in(create_user(moderator=True))
    assert read(client, "?measure=requests").rows["22"][-1] == "1"
    with transaction():
        session.execute(HelpRequest.__table__.update().values(confidential=True))
    assert read(client, "?measure=requests").rows["22"][-1] == "0"


def test_each_department_leads_to_its_own_initiatives(seeded, client) -> None:
    page = read(client)
    for code in ("22", "2A", "01"):
        href = page.links[code]["href"]
        assert href == f"/initiatives?department={code}"
        assert page.rows[code][0] == href
        listed = client.get(href)
        assert listed.status_code == 200
        found = {int(n) for n in re.findall(r'<a href="/initiatives/(\d+)">',
                                            listed.get_data(as_text=True))}
        assert found == set(seeded.get(code, []))
    # Paris and its inner ring again, larger, for the pointer: the keyboard has them once.
    assert [(link["href"], link["tabindex"]) for link in page.inset] \
        == [(f"/initiatives?department={code}", "-1") for code in ("75", "92", "93", "94")]
    assert all("tabindex" not in link for link in page.links.values())


def test_the_shade_follows_the_measure_and_the_counts(seeded, client, create_user) -> None:
    def shades(query: str = "") -> dict[str, str]:
        return {code: link["class"] for code, link in read(client, query).links.items()}

    assert shades() == shades("?measure=initiatives")
    by_initiatives = shades()
    assert (by_initiatives["22"], by_initiatives["29"], by_initiatives["01"]) \
        == ("shade-1", "shade-1", "shade-0")
    assert shades("?measure=towns")["2A"] == "shade-0"
    assert shades("?measure=requests")["29"] == "shade-1"
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    with transaction():
        for n in range(4):
            _publish(author, LANNION, f"Encore une initiative {n}")
    # 6 initiatives: the class of 6 to 10, and the legend says so.
    assert shades()["22"] == "shade-3"
    page = client.get("/map").get_data(as_text=True)
    assert re.search(r'<span class="swatch shade-3"></span>6 à 10</li>', page)


def test_an_unknown_measure_is_explained(client) -> None:
    response = client.get("/map?measure=population")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Must be one of: initiatives, towns, requests." in page
    assert '<a href="#measure">' in page
    assert 'id="measure"' in page


def test_the_page_is_light_and_needs_no_other_host(seeded, client) -> None:
    response = client.get("/map")
    body = response.get_data()
    assert len(body) < 100_000
    page = body.decode()
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page.split("<footer")[0])
    paths = re.findall(r'<a href="[^"]+" class="shade-\d"><title>[^<]+</title><path d="', page)
    assert len(paths) == 96
