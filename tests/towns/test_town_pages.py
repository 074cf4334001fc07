"""The HTML pages of towns: the directory, a town with its networks and labels, an unknown one."""

from __future__ import annotations

from maillage.database import session, transaction
from maillage.networks.models import LabelAward, Network, NetworkMembership


def test_the_directory_searches_and_pages(client) -> None:
    page = client.get("/towns?q=landerneau").get_data(as_text=True)
    assert 'href="/towns/29103"' in page
    assert "Landerneau" in page
    first = client.get("/towns?department=2A").get_data(as_text=True)
    assert 'rel="next"' in first
    assert "Aucune commune" in client.get("/towns?q=zzzzzz").get_data(as_text=True)


def test_the_directory_explains_bad_input(client) -> None:
    response = client.get("/towns?cursor=garbage")
    assert response.status_code == 422
    assert "Not a cursor" in response.get_data(as_text=True)


def test_a_town_page_shows_its_networks_and_label_awards(client) -> None:
    with transaction():
        network = Network(slug="villes-internet", name="Villes Internet")
        session.add(network)
        session.flush()
        session.add(NetworkMembership(network_id=network.id, town_insee="29103", since_year=2019))
        session.add_all([LabelAward(town_insee="29103", year=2024, level=3),
                         LabelAward(town_insee="29103", year=2025, level=4)])
    page = client.get("/towns/29103").get_data(as_text=True)
    assert "Villes Internet, depuis 2019" in page
    assert page.index("2025") < page.index("2024")
    assert 'aria-label="4 arobases sur 5">@@@@</span>' in page


def test_an_unknown_town_is_a_404_page(client) -> None:
    response = client.get("/towns/00000")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page introuvable" in response.get_data(as_text=True)
