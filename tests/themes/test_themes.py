"""The themes, through the API and on their page, in French and English."""

from __future__ import annotations


def test_themes(client) -> None:
    themes = client.get("/api/v1/themes").json
    assert len(themes) == 21
    assert {"slug": "cybersecurite", "name_fr": "Cybersécurité", "name_en": "Cybersecurity"} \
        in themes


def test_themes_page_lists_french_and_english_names(client) -> None:
    page = client.get("/themes").get_data(as_text=True)
    assert "Sobriété numérique" in page
    assert "Digital sobriety" in page
