"""The JSON API under /api/v1: flask-smorest, its OpenAPI document, and JSON errors there.

Every error under /api is JSON (`{"code", "status", "message", "errors"}`), field by field
for bad input; pages elsewhere keep HTML error pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import flask_smorest
from flask import Flask, current_app, jsonify, render_template, request
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import IntegerConverter

from maillage.errors import DomainError, Invalid
from maillage.fields import INTEGER_MAX
from maillage.web import is_api_request

API_PREFIX = "/api/v1"


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id in ASCII digits, at most PostgreSQL's integer, or
    no such page.

    A larger number would reach the database and fail there (a 500) instead of answering 404.
    werkzeug's `\\d+` takes any Unicode digit, and "/initiatives/٣" was initiative 3.
    """

    regex = r"[0-9]+"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INTEGER_MAX)
        super().__init__(*args, **kwargs)


class Parser(FlaskParser):
    """webargs' parser of the API's arguments, reading JSON bodies with the app's JSON parser
    (`bodies.JSONProvider`, which refuses deep nesting) where webargs calls `json.loads`."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        return current_app.json.loads(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, parsing arguments with `Parser`: every API endpoint's."""

    ARGUMENTS_PARSER = Parser()


class MaillageApi(Api):
    """flask-smorest's Api, answering HTML for errors outside /api."""

    def register_blueprint(self, blp: flask_smorest.Blueprint, **options: Any) -> None:
        """Register `blp`, which must be a `Blueprint` of this module: another would parse its
        bodies with `json.loads`, and a deeply nested one would be a 500."""
        if not isinstance(blp, Blueprint):
            raise TypeError(f"{blp.name} is not a maillage.api.Blueprint")
        super().register_blueprint(blp, **options)

    def handle_http_exception(self, error: HTTPException) -> Any:
        if is_api_request():
            data = getattr(error, "data", None) or {}
            if "message" not in data and error.description:
                error.data = {**data, "message": error.description}
            return super().handle_http_exception(error)
        page = render_template("error.html", error=error)
        return page, error.code or 500


api = MaillageApi()


def handle_domain_error(error: DomainError) -> Any:
    """Answer a refused operation with its status, in JSON under /api, as a page elsewhere."""
    if not is_api_request():
        return render_template("error.html", error=error), error.status
    body: dict[str, Any] = {"code": error.status, "status": HTTP_STATUS_CODES[error.status],
                            "message": error.message}
    if isinstance(error, Invalid):
        # Keyed by where the fields were, as the schemas' own errors are: a multipart body's
        # under "files".
        location = "files" if request.mimetype == "multipart/form-data" else "json"
        body["errors"] = {location: error.errors}
    return jsonify(body), error.status


def init_app(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Attach the API and register each capability's endpoints, `blueprints`, under it."""
    app.config.update(
        API_TITLE="Maillage API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "The JSON API of Maillage, the network of small towns."},
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                }
            },
        },
    )
    api.init_app(app)
    api.register_converter(RowIdConverter, integerconverter2paramschema)
    app.register_error_handler(DomainError, handle_domain_error)
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
