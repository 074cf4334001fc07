"""Open data and feeds: the page stating the licence, the exports streamed as CSV and JSON,
their DCAT catalog, and the Atom feeds of a theme, a town, a network and a search."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from maillage.errors import Invalid
from maillage.forms import field_errors
from maillage.i18n import locale_name, theme_name
from maillage.initiatives.models import Initiative
from maillage.initiatives.queries import list_initiatives
from maillage.initiatives.schemas import InitiativeQueryArgs
from maillage.networks.queries import get_network
from maillage.opendata import atom
from maillage.opendata.queries import (
    COLUMNS,
    Row,
    last_modified,
    latest_of_network,
    public_initiatives,
)
from maillage.themes.queries import get_theme
from maillage.towns.queries import get_town

blueprint = Blueprint("opendata", __name__)

LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
ATOM = "application/atom+xml; charset=utf-8"
_Found = TypeVar("_Found")


@blueprint.get("/open-data")
def index() -> str:
    return render_template("opendata/index.html", licence=LICENCE, modified=last_modified())


def _url_prefix() -> str:
    """The initiatives' URL up to their id, built once: url_for per row would cost more."""
    return url_for("initiatives.index", _external=True) + "/"


def _flat(row: Row, prefix: str) -> dict[str, Any]:
    """A row as JSON writes it: dates in ISO 8601, lists as lists."""
    values = {name: getattr(row, name) for name in COLUMNS[:-1]}
    for name in ("started_on", "created_at", "updated_at"):
        value: date | datetime | None = values[name]
        values[name] = value.isoformat() if value is not None else None
    return {**values, "url": f"{prefix}{row.id}"}


def _csv_lines(rows: Iterable[Row], prefix: str) -> Iterator[str]:
    """The CSV, a batch of lines at a time: themes `;`-separated (slugs never hold one),
    partners and links a line each within their cell, which the csv module quotes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, row in enumerate(rows, 1):
        values = _flat(row, prefix)
        values["themes"] = ";".join(row.themes)
        values["partners"] = "\n".join(row.partners)
        values["links"] = "\n".join(row.links)
        writer.writerow(values.values())
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterable[Row], prefix: str) -> Iterator[str]:
    """One JSON array, written an element at a time."""
    yield "["
    separator = ""
    for row in rows:
        yield separator + json.dumps(_flat(row, prefix), ensure_ascii=False)
        separator = ",\n"
    yield "]\n"


@blueprint.get("/open-data/initiatives.csv")
def initiatives_csv() -> Response:
    lines = stream_with_context(_csv_lines(public_initiatives(), _url_prefix()))
    return Response(lines, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="maillage-initiatives.csv"'})


@blueprint.get("/open-data/initiatives.json")
def initiatives_json() -> Response:
    chunks = stream_with_context(_json_chunks(public_initiatives(), _url_prefix()))
    return Response(chunks, mimetype="application/json")


@blueprint.get("/open-data/catalog.jsonld")
def catalog() -> Response:
    """The DCAT-AP description of the dataset, for data.gouv.fr and other harvesters."""
    modified = last_modified()
    home = url_for("home", _external=True)
    distributions = [
        {"@type": "dcat:Distribution", "dct:title": title,
         "dcat:downloadURL": {"@id": url_for(endpoint, _external=True)},
         "dcat:accessURL": {"@id": url_for(endpoint, _external=True)},
         "dcat:mediaType": media, "dct:format": format_,
         "dct:license": {"@id": LICENCE}}
        for endpoint, title, media, format_ in (
            (".initiatives_csv", "Initiatives (CSV)", "text/csv", "CSV"),
            (".initiatives_json", "Initiatives (JSON)", "application/json", "JSON"))]
    publisher = {"@type": "foaf:Organization", "foaf:name": "Maillage",
                 "foaf:homepage": {"@id": home}}
    document = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/",
                     "xsd": "http://www.w3.org/2001/XMLSchema#"},
        "@id": url_for(".catalog", _external=True),
        "@type": "dcat:Catalog",
        "dct:title": "Maillage : données ouvertes",
        "dct:description": "Les initiatives numériques publiées par les communes sur Maillage.",
        "dct:publisher": publisher,
        "dct:license": {"@id": LICENCE},
        "foaf:homepage": {"@id": url_for(".index", _external=True)},
        "dcat:dataset": [{
            "@id": url_for(".index", _external=True) + "#initiatives",
            "@type": "dcat:Dataset",
            "dct:title": "Initiatives des communes",
            "dct:description": "Chaque initiative publique : titre, commune, département, "
                               "thèmes, état, date de début, budget, partenaires, liens.",
            "dct:publisher": publisher,
            "dct:license": {"@id": LICENCE},
            "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
            "dcat:keyword": ["numérique", "collectivités", "petites villes"],
            "dcat:distribution": distributions,
            **({"dct:modified": {"@value": modified.isoformat(), "@type": "xsd:dateTime"}}
               if modified else {}),
        }],
        **({"dct:modified": {"@value": modified.isoformat(), "@type": "xsd:dateTime"}}
           if modified else {}),
    }
    return Response(json.dumps(document, ensure_ascii=False, indent=2),
                    mimetype="application/ld+json")


def _or_404(found: _Found | None) -> _Found:
    if found is None:
        abort(404)
    return found


def _feed(title: str, page_url: str, initiatives: list[Initiative]) -> Response:
    prefix = _url_prefix()
    body = atom.feed(title=f"{title} · Maillage", page_url=page_url, feed_url=request.url,
                     language=locale_name(), initiatives=initiatives,
                     url_of=lambda initiative: f"{prefix}{initiative.id}")
    return Response(body, content_type=ATOM)


@blueprint.get("/themes/<slug>/feed.atom")
def theme_feed(slug: str) -> Response:
    theme = _or_404(get_theme(slug))
    return _feed(_("Initiatives du thème %(theme)s", theme=theme_name(theme)),
                 url_for("themes.theme", slug=slug, _external=True),
                 list_initiatives(theme=slug, limit=atom.LATEST).items)


@blueprint.get("/towns/<insee>/feed.atom")
def town_feed(insee: str) -> Response:
    town = _or_404(get_town(insee))
    return _feed(_("Initiatives de %(town)s", town=town.name),
                 url_for("towns.town", insee=town.insee, _external=True),
                 list_initiatives(town=town.insee, limit=atom.LATEST).items)


@blueprint.get("/networks/<slug>/feed.atom")
def network_feed(slug: str) -> Response:
    network = _or_404(get_network(slug))
    return _feed(_("Initiatives du réseau %(network)s", network=network.name),
                 url_for("figures.index", network=slug, _external=True),
                 latest_of_network(network.id, atom.LATEST))


@blueprint.get("/initiatives/feed.atom")
def search_feed() -> Response | tuple[Response, int]:
    """The list's feed, with its filters and search; the newest first even with `q`, as a
    reader shows them, and no cursor: a feed is always its first page."""
    try:
        args = InitiativeQueryArgs(exclude=("after", "limit")).load(request.args)
        found = list_initiatives(**args, limit=atom.LATEST).items
    except (ValidationError, Invalid) as error:
        return Response(json.dumps({"errors": field_errors(error)}, ensure_ascii=False),
                        mimetype="application/json"), 422
    found.sort(key=lambda initiative: initiative.id, reverse=True)
    title = _("Initiatives : « %(q)s »", q=args["q"]) if args.get("q") else _("Initiatives")
    return _feed(title, url_for("initiatives.index", **request.args, _external=True), found)
