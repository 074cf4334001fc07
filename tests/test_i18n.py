"""The language of the pages: French by default, English by the browser's wish or the switch,
and a catalogue that covers every message of the templates and code."""

from __future__ import annotations

from io import BytesIO

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from maillage.settings import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "frontend" / "translations"


def test_french_by_default_english_when_the_browser_prefers_it(client) -> None:
    assert "Aller au contenu" in client.get("/").get_data(as_text=True)
    for french in ("fr-FR,fr;q=0.9,en;q=0.8", "de-DE", "fr"):
        page = client.get("/", headers={"Accept-Language": french}).get_data(as_text=True)
        assert ">Entraide</a>" in page, french
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    text = page.get_data(as_text=True)
    assert ">Help</a>" in text
    assert '<header class="site" lang="en">' in text
    assert '<html lang="fr">' in text  # the pages' own text is still French


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
                                  ("frontend/templates/**.html", "jinja2")])}
    po = read_po(BytesIO((TRANSLATIONS / "en/LC_MESSAGES/messages.po").read_bytes()))
    translated = {m.id: m.string for m in po if m.id}
    assert wanted - set(translated) == set()
    assert [m for m, text in translated.items() if not text] == []
    shipped = read_mo(BytesIO((TRANSLATIONS / "en/LC_MESSAGES/messages.mo").read_bytes()))
    assert {m.id: m.string for m in shipped if m.id} == translated, \
        "messages.mo is older than messages.po: pybabel compile -d frontend/translations"


def test_the_home_page_is_in_english_too(client) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<div lang="en">' in page
    assert "Join Maillage" in page
    assert "Rejoindre" not in page
