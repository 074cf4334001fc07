"""The pages a public site owes: each answers in both languages and is linked from every page's
foot; the legal notice names whom the settings name; the privacy page states the delays the
settings decide."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

PAGES = ("/accessibility", "/legal-notice", "/privacy")
MAX_BYTES = 100_000


def text(page: bytes) -> str:
    """The words of a page, tags out and spaces made plain, as a reader meets them."""
    words = html.unescape(re.sub(r"<[^>]+>", " ", page.decode()))
    return re.sub(r"\s+", " ", words.replace("\xa0", " "))


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_page_answers_in_both_languages(client, path, language) -> None:
    client.set_cookie("lang", language)
    response = client.get(path)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert len(response.data) < MAX_BYTES


@pytest.mark.parametrize("path", ["/", "/initiatives", "/open-data", *PAGES])
def test_every_foot_links_the_three(client, path) -> None:
    foot = client.get(path).text.split('<footer class="site">')[1]
    for page in PAGES:
        assert f'href="{page}"' in foot


def test_a_signed_in_members_foot_links_them_too(client, create_user, sign_in) -> None:
    sign_in(create_user())
    foot = client.get("/settings").text.split('<footer class="site">')[1]
    assert all(f'href="{page}"' in foot for page in PAGES)


def test_the_legal_notice_names_whom_the_settings_name(make_app) -> None:
    app = make_app(LEGAL_PUBLISHER="Syndicat numérique du Trégor",
                   LEGAL_ADDRESS="1 rue de la Mairie, 22300 Lannion",
                   LEGAL_DIRECTOR="Anne Le Goff", LEGAL_HOST="Hébergeur Breton SAS, Brest",
                   LEGAL_CONTACT_EMAIL="dpo@tregor.example.org")
    page = text(app.test_client().get("/legal-notice").data)
    for said in ("Syndicat numérique du Trégor", "1 rue de la Mairie, 22300 Lannion",
                 "Anne Le Goff", "Hébergeur Breton SAS, Brest", "dpo@tregor.example.org"):
        assert said in page


def test_the_legal_notice_says_what_is_not_given_yet(client) -> None:
    page = text(client.get("/legal-notice").data)
    for setting in ("LEGAL_ADDRESS", "LEGAL_DIRECTOR", "LEGAL_HOST"):
        assert f"pas encore indiqué par l'exploitant du site (réglage {setting})" in page
    assert "contact@maillage.localhost" in page


def test_the_contact_address_is_the_one_to_report_a_problem_or_ask_about_data(
        make_app) -> None:
    client = make_app(LEGAL_CONTACT_EMAIL="acces@tregor.example.org").test_client()
    for path in ("/accessibility", "/privacy"):
        assert 'href="mailto:acces@tregor.example.org"' in client.get(path).text


def test_the_accessibility_statement_says_non_conforme_and_where_to_turn(client) -> None:
    page = text(client.get("/accessibility").data)
    assert "Maillage est non conforme avec le RGAA 4.1" in page
    assert "Aucun audit de conformité n'a encore été réalisé" in page
    assert "Défenseur des droits" in page
    assert "4 décembre 2026" in page


@pytest.mark.parametrize(("language", "said"), [
    ("fr", ["45 jours", "3 heures", "20 minutes"]),
    ("en", ["45 days", "3 hours", "20 minutes"]),
])
def test_the_privacy_page_states_the_delays_of_the_settings(make_app, language, said) -> None:
    client = make_app(MAIL_REPLY_MAX_AGE=timedelta(days=45),
                      PASSWORD_RESET_MAX_AGE=timedelta(hours=3), LOCKOUT_MINUTES=20).test_client()
    client.set_cookie("lang", language)
    page = text(client.get("/privacy").data)
    for duration in said:
        assert duration in page


def test_the_privacy_page_states_the_default_delays(client) -> None:
    page = text(client.get("/privacy").data)
    for said in ("l'adresse de réponse d'un avis sert 30 jours",
                 "sert une fois, pendant 1 heure", "bloquée 15 minutes",
                 "oubliée après 2 jours", "gardés 7 jours après l'envoi",
                 "la langue choisie 365 jours"):
        assert said in page


def test_the_privacy_page_leads_to_the_export_and_the_deletion(client) -> None:
    page = client.get("/privacy").text
    assert 'href="/account"' in page
    assert "CNIL" in page
