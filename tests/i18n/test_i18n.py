"""The language of the pages: French by default, English by the browser's wish or the switch,
and a catalogue that covers every message of the templates and code."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.help import operations as help_operations
from maillage.initiatives import operations as initiatives
from maillage.initiatives.models import Initiative
from maillage.settings import PROJECT_ROOT
from maillage.towns.queries import get_town

TRANSLATIONS = PROJECT_ROOT / "frontend" / "translations"
LANNION = "22113"
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
# Words of the French pages that no English page should show (outside user content).
FRENCH = re.compile(r"\b(Commune|Thèmes|Demandes|Publiée|Rechercher|Connectez-vous|"
                    r"Se connecter|Mot de passe|habitants|Réseau|Aucune|Tous les)\b")


def test_french_by_default_english_when_the_browser_prefers_it(client) -> None:
    assert "Aller au contenu" in client.get("/").get_data(as_text=True)
    for french in ("fr-FR,fr;q=0.9,en;q=0.8", "de-DE", "fr"):
        page = client.get("/", headers={"Accept-Language": french}).get_data(as_text=True)
        assert ">Entraide</a>" in page, french
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    text = page.get_data(as_text=True)
    assert ">Help</a>" in text
    assert '<html lang="en">' in text
    assert '<header class="site">' in text  # no mark: the whole page is in English


def test_the_switch_keeps_the_choice_over_the_browser(client) -> None:
    response = client.get("/language/en?next=/themes")
    assert response.status_code == 303
    assert response.headers["Location"] == "/themes"
    page = client.get("/themes", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert ">Towns</a>" in page
    assert 'aria-current="true">English</strong>' in page
    client.get("/language/fr?next=/")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">Communes</a>" in page


def test_the_switch_refuses_what_it_does_not_know(client) -> None:
    assert client.get("/language/de?next=/").status_code == 404
    assert ">Communes</a>" in client.get("/").get_data(as_text=True)
    # No open redirect: the language is kept, the foreign address is not followed.
    assert client.get("/language/en?next=//elsewhere.example").headers["Location"] == "/"
    assert ">Towns</a>" in client.get("/").get_data(as_text=True)


def test_the_english_catalogue_translates_every_message_and_is_compiled() -> None:
    wanted = {message for _file, _line, message, _comments, _context in extract_from_dir(
        PROJECT_ROOT, method_map=[("platform/**.py", "python"),
                                  ("frontend/templates/**.html", "jinja2"),
                                  ("frontend/templates/mail/**.txt", "jinja2")])}
    po = read_po(BytesIO((TRANSLATIONS / "en/LC_MESSAGES/messages.po").read_bytes()))
    translated = {m.id: m.string for m in po if m.id}
    assert wanted - set(translated) == set()
    assert [m for m, text in translated.items()
            if not all(text if isinstance(text, tuple) else (text,))] == []
    shipped = read_mo(BytesIO((TRANSLATIONS / "en/LC_MESSAGES/messages.mo").read_bytes()))
    # read_mo gives a plural's forms as lists, read_po as tuples.
    assert {tuple(m.id) if isinstance(m.id, list) else m.id:
            tuple(m.string) if isinstance(m.string, list) else m.string
            for m in shipped if m.id} == translated, \
        "messages.mo is older than messages.po: pybabel compile -d frontend/translations"


def test_the_home_page_is_in_english_too(client) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Join Maillage" in page
    assert "Rejoindre" not in page


@pytest.fixture
def published(create_user) -> dict[str, int]:
    """An initiative of Lannion started on 24 March 2026 with a budget of 12,345 euros, and an
    open help request; both published on 24 March 2026."""
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    with transaction():
        user = session.get(User, author.id)
        initiative = initiatives.publish_initiative(
            user, town=LANNION, title="Des imprimantes moins gourmandes", summary="En bref.",
            body="Le récit.", themes=["cybersecurite"], status="in_progress",
            started_on=date(2026, 3, 24), budget_eur=12345)
        initiative.created_at = initiative.updated_at = datetime(2026, 3, 24, 9, tzinfo=UTC)
        asked = help_operations.ask_for_help(user, town=LANNION, title="Quel hébergeur ?",
                                             body="Pour le site.", themes=["cybersecurite"])
        asked.created_at = datetime(2026, 3, 24, 9, tzinfo=UTC)
        return {"initiative": initiative.id, "request": asked.id}


def _english(client, path: str) -> str:
    response = client.get(path, headers=ENGLISH)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page, path
    body = page[page.index("<main"):page.index("</main>")]
    assert FRENCH.findall(body) == [], path
    return body


def test_every_page_is_in_english_for_an_english_reader(client, published) -> None:
    home = _english(client, "/")
    assert "Latest initiatives" in home
    assert "Open help requests" in home
    assert "March 24, 2026" in home  # the cards' dates
    listed = _english(client, "/initiatives")
    assert "Towns' initiatives" in listed
    assert ">In progress<" in listed
    assert ">Cybersecurity<" in listed
    shown = _english(client, f"/initiatives/{published['initiative']}")
    for english in ('<time datetime="2026-03-24">March 24, 2026</time>', "€12,345",
                    "<dt>Published on</dt>", "No comment yet.", "to comment."):
        assert english in shown
    assert "Des imprimantes moins gourmandes" in shown  # user content stays as written
    requests = _english(client, "/help-requests")
    assert "Towns' help requests" in requests
    assert "asked on" in requests
    assert "Unanswered" in requests
    theme = _english(client, "/themes/cybersecurite")
    assert '<h1>Cybersecurity <span lang="fr" class="muted">(Cybersécurité)</span></h1>' in theme
    assert "Referents" in theme
    town = _english(client, f"/towns/{LANNION}")
    population = get_town(LANNION).population
    assert f"{population:,} inhabitants" in town
    assert "<h1>Lannion</h1>" in town  # town names as the data has them
    sign_in = _english(client, "/sign-in")
    assert "Email address" in sign_in
    assert "Forgot your password?" in sign_in
    figures = _english(client, "/figures")
    assert "The networks in figures" in figures
    assert "2,500 to 25,000" in figures
    assert "Towns by population band" in figures
    drawn = _english(client, "/map")
    assert "The map of the network" in drawn
    assert "1 initiative, 0 towns of the network, 1 open help request" in drawn


def test_french_pages_write_dates_and_numbers_the_french_way(client, published) -> None:
    shown = client.get(f"/initiatives/{published['initiative']}").get_data(as_text=True)
    assert '<html lang="fr">' in shown
    assert '<time datetime="2026-03-24">24 mars 2026</time>' in shown
    assert "12\u202f345\u00a0€" in shown
    theme = client.get("/themes/cybersecurite").get_data(as_text=True)
    assert '<h1>Cybersécurité <span lang="en" class="muted">(Cybersecurity)</span></h1>' in theme
    population = get_town(LANNION).population
    assert f"{population:,}".replace(",", "\u202f") + " habitants" in client.get(
        f"/towns/{LANNION}").get_data(as_text=True)
    assert "2\u202f500 à 25\u202f000" in client.get("/figures").get_data(as_text=True)


def test_the_figures_api_keeps_its_french_words(client) -> None:
    figure = client.get("/api/v1/figures/bands", headers=ENGLISH).json
    assert figure["title"] == "Les communes par tranche de population"


def test_a_flash_message_follows_the_language(client, create_user, sign_in, csrf) -> None:
    user = create_user()
    with transaction():
        session.get(User, user.id).locale = "en"
    sign_in(user)
    response = client.post("/follows/theme/cybersecurite/follow",
                           data={"csrf_token": csrf()}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You now follow this theme." in page
    assert "Unfollow this theme" in page


def test_an_initiative_has_no_leftover_french_in_its_edit_form(client, published, sign_in,
                                                              create_user) -> None:
    with transaction():
        author = session.get(Initiative, published["initiative"]).author
        author.locale = "en"  # signed in, the account's language is the page's
        author_id = author.id
    sign_in(session.get(User, author_id))
    _english(client, f"/initiatives/{published['initiative']}/edit")
