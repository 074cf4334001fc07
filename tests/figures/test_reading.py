"""What the figures tell a reader: networks and themes by their names (the API and CSV keep
the slugs for programs, beside the names), each figure's CSV link, where its numbers come from
and when they were computed, in Paris time."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from maillage.figures.queries import FIGURES, compute
from tests.figures.conftest import APVF

SLUGS = {"apvf", "villes-internet", "cybersecurite", "sobriete-numerique"}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


class Sections(HTMLParser):
    """Per figure of the page: the texts of its table cells and of its chart, its links, the
    text of its source line and the `datetime` of its `<time>`."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, dict[str, list[str]]] = {}
        self.current: dict[str, list[str]] | None = None
        self.into: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and "figure" in (found.get("class") or "").split():
            name = (found.get("aria-labelledby") or "").removesuffix("-heading")
            self.current = self.figures.setdefault(name, {
                "cells": [], "chart": [], "links": [], "meta": [], "times": []})
        if self.current is None:
            return
        if tag == "a":
            self.current["links"].append(found.get("href") or "")
        if tag == "time":
            self.current["times"].append(found.get("datetime") or "")
        kind = {"th": "cells", "td": "cells", "text": "chart"}.get(tag)
        if tag == "p" and "figure-meta" in (found.get("class") or "").split():
            kind = "meta"
        if kind and self.into is None:
            self.into, self.text = kind, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None
        if self.current is not None and self.into and tag in {"th", "td", "text", "p"}:
            self.current[self.into].append(" ".join(self.text.split()))
            self.into = None

    def handle_data(self, data: str) -> None:
        if self.into:
            self.text += data


def sections(page: str) -> dict[str, dict[str, list[str]]]:
    parser = Sections()
    parser.feed(page)
    return parser.figures


def test_the_page_names_networks_and_themes_not_their_slugs(client, named) -> None:
    figures = sections(client.get("/figures").text)
    assert set(figures) == set(FIGURES)
    for name, shown in figures.items():
        assert not SLUGS & set(shown["cells"] + shown["chart"]), name
    assert APVF in figures["members"]["cells"]
    assert APVF in figures["members"]["chart"]
    assert {APVF, "Villes Internet"} <= set(figures["overlap"]["cells"])
    assert {"Cybersécurité", "Sobriété numérique"} <= set(figures["initiatives"]["cells"])
    assert {"Cybersécurité", "Sobriété numérique"} <= set(figures["initiatives"]["chart"])
    assert "Cybersécurité" in figures["help_answers"]["cells"]
    # The month in words, heading the bars of its themes.
    month = datetime.now(ZoneInfo("UTC"))
    assert f"{MONTHS[month.month - 1]} {month.year}" in figures["initiatives"]["chart"]

    english = sections(client.get("/figures", headers={"Accept-Language": "en"}).text)
    assert {"Cybersecurity", "Digital sobriety"} <= set(english["initiatives"]["cells"])
    assert "Cybersécurité" not in english["initiatives"]["cells"]


def _csv(client, url: str, **headers: str) -> list[dict[str, str]]:
    response = client.get(url, headers=headers)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_csv_and_the_api_keep_the_slug_beside_the_name(client, named) -> None:
    members = {row["network"]: row["network_name"]
               for row in _csv(client, "/api/v1/figures/members?format=csv")}
    assert members == {"apvf": APVF, "villes-internet": "Villes Internet"}
    overlap = _csv(client, "/api/v1/figures/overlap?format=csv")
    assert {(row["network"], row["other"], row["other_name"]) for row in overlap} == {
        ("apvf", "villes-internet", "Villes Internet"), ("villes-internet", "apvf", APVF)}
    themes = {row["theme"]: row["theme_name"]
              for row in _csv(client, "/api/v1/figures/initiatives?format=csv")}
    assert themes == {"cybersecurite": "Cybersécurité", "sobriete-numerique": "Sobriété numérique"}
    english = {row["theme"]: row["theme_name"] for row in _csv(
        client, "/api/v1/figures/initiatives?format=csv", **{"Accept-Language": "en"})}
    assert english == {"cybersecurite": "Cybersecurity", "sobriete-numerique": "Digital sobriety"}

    answers = client.get("/api/v1/figures/help_answers").json
    keys = [(column["key"], column["kind"]) for column in answers["columns"]]
    assert keys[:2] == [("theme", "slug"), ("theme_name", "text")]
    assert [(row["theme"], row["theme_name"]) for row in answers["rows"]] == [
        ("cybersecurite", "Cybersécurité")]
    assert client.get("/api/v1/help-requests/figures").json["themes"][0]["theme_name"] == \
        "Cybersécurité"


def test_each_figure_links_its_csv_and_says_its_source_and_when(client, named) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    figures = sections(client.get("/figures?network=villes-internet").text)
    after = datetime.now(UTC)
    for name, shown in figures.items():
        [download] = [link for link in shown["links"] if "format=csv" in link]
        assert download.startswith(f"/api/v1/figures/{name}?"), download
        response = client.get(download.replace("&amp;", "&"))
        assert response.status_code == 200, (name, response.text)
        assert f'filename="{name}.csv"' in response.headers["Content-Disposition"]
        api = client.get(f"/api/v1/figures/{name}").json
        assert next(csv.reader(io.StringIO(response.text))) == [
            column["key"] for column in api["columns"]]

        source = compute(name, {}).source
        assert api["source"] == source
        [meta] = shown["meta"]
        assert meta.startswith(f"Source : {source}. Calculé le "), meta
        [stamp] = shown["times"]
        computed = datetime.fromisoformat(stamp)
        assert before <= computed <= after
        paris = computed.astimezone(ZoneInfo("Europe/Paris"))
        assert f"le {paris.day} {MONTHS[paris.month - 1]} {paris.year} à {paris:%H:%M} " \
               "(heure de Paris)" in meta, meta
        assert before - timedelta(minutes=1) <= datetime.fromisoformat(api["computed_at"]) \
            <= datetime.now(UTC)
    assert "network=villes-internet" in next(
        link for link in figures["members"]["links"] if "format=csv" in link)
