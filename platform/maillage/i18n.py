"""The language of the pages: French by default, English for a browser that prefers it, and
the reader's own choice, kept in a cookie, above both (the switch at the foot of each page).

Message catalogues live in frontend/translations (`pybabel`, see docs/operations.md); the
French text is the source, so French needs no catalogue.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from maillage.accounts.auth import safe_next
from maillage.settings import PROJECT_ROOT

LANGUAGES = ("fr", "en")
COOKIE = "lang"
# One year: a choice of language is not worth asking again.
COOKIE_AGE = 365 * 24 * 3600

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The reader's choice, else the browser's best match among LANGUAGES, else French."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


@blueprint.get("/language/<language>")
def choose(language: str) -> Response:
    """Keep the language asked for, and go back. A link, not a form: a visitor gets no session
    for it, and a forged one only changes the language."""
    if language not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")), 303)
    response.set_cookie(COOKIE, language, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          str(PROJECT_ROOT / "frontend" / "translations"))
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(blueprint)
    app.jinja_env.globals["languages"] = {"fr": "Français", "en": "English"}
    app.jinja_env.globals["get_locale"] = get_locale
