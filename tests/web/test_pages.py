"""The HTML pages: directory, a town, themes, sign-in and sign-up, errors."""

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


def test_themes_page_lists_french_and_english_names(client) -> None:
    page = client.get("/themes").get_data(as_text=True)
    assert "Sobriété numérique" in page
    assert "Digital sobriety" in page


def test_forms_have_labels_and_a_csrf_token(client) -> None:
    for url in ("/sign-in", "/sign-up"):
        page = client.get(url).get_data(as_text=True)
        assert 'name="csrf_token"' in page
        for field in ("email", "password"):
            assert f'<label for="{field}">' in page
        assert 'href="#contenu"' in page


def test_the_header_follows_the_signed_in_user(client, sign_in, create_user) -> None:
    assert "Se connecter" in client.get("/").get_data(as_text=True)
    sign_in(create_user("lea@example.org"))
    page = client.get("/").get_data(as_text=True)
    assert "Lea" in page
    assert "Se déconnecter" in page


def test_every_answer_carries_the_security_headers(client) -> None:
    for url in ("/initiatives", "/api/v1/themes", "/nowhere", "/static/maillage.css"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


def test_no_page_has_an_inline_script_or_a_foreign_host(client, sign_in, create_user) -> None:
    import re

    sign_in(create_user())
    for url in ("/initiatives", "/towns/22113", "/themes", "/notifications", "/initiatives/new"):
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"(src|href)=\"(https?:)?//", page), url
