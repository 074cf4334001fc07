"""The language of the pages: a signed-in member's, kept on their account (`User.locale`);
for a visitor, their own choice, kept in a cookie (the switch at the foot of each page), else
the browser's best match, else French. A new account starts in the visitor's language.

Message catalogues live in frontend/translations (`pybabel`, see docs/operations.md); the
French text is the source, so French needs no catalogue.
"""

from __future__ import annotations

from typing import Any

from babel.units import format_unit
from flask import Blueprint, Flask, abort, has_request_context, redirect, request
from flask_babel import Babel, format_currency, format_percent, get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from maillage.errors import Invalid
from maillage.settings import PROJECT_ROOT
from maillage.web import safe_next

LANGUAGES = ("fr", "en")
# What a member or a subscriber is told of a language Maillage does not write in.
UNKNOWN_LANGUAGE = "Choose fr (French) or en (English)."
COOKIE = "lang"
# One year: a choice of language is not worth asking again.
COOKIE_AGE = 365 * 24 * 3600
# Dates are the days they were in France, whatever the language.
TIMEZONE = "Europe/Paris"

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The signed-in member's language, else the visitor's (`visitor_locale`): an account
    read from a French browser, a shared computer's, is still in its owner's language.
    Outside a request (a command, a worker) no one is reading: French, unless the caller
    chose with `force_locale`."""
    if not has_request_context():
        return LANGUAGES[0]
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return visitor_locale()


def visitor_locale() -> str:
    """The visitor's choice, else the browser's best match among LANGUAGES, else French: the
    language a new account starts with."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


def check_language(locale: str) -> None:
    """Refuse a language Maillage does not write in, as the field `locale`."""
    if locale not in LANGUAGES:
        raise Invalid({"locale": [UNKNOWN_LANGUAGE]})


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it: it is kept in French (the API
    gives it so) and translated with `gettext` where a page shows it."""
    return message


def language(locale: str | None) -> str:
    """Return the language of a reader's mail and notices from their locale: "en" for
    English readers, "fr" for everyone else."""
    return "en" if (locale or "").startswith("en") else "fr"


def locale_name() -> str:
    """The page's language, "fr" or "en"."""
    return str(get_locale())


def euros(amount: int) -> str:
    """A whole amount in euros as the reader writes it: "12 000 €", "€12,000"."""
    pattern = get_locale().currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, "EUR", pattern, currency_digits=False)


def percent(share: float) -> str:
    """A share (0 to 1) with one decimal, as the reader writes it: "12,5 %", "12.5%"."""
    pattern = get_locale().percent_formats[None].pattern.replace("#,##0", "#,##0.0")
    return format_percent(share, pattern)


def hours(value: float) -> str:
    """A duration in hours with one decimal: "3,5 h", "3.5 hr"."""
    return format_unit(value, "duration-hour", "short", "#,##0.0", locale=get_locale())


def duration(value: float, unit: str) -> str:
    """A duration in words, in the reader's language and plural ("30 jours", "1 hour"), of
    `unit` "minute", "hour" or "day"."""
    return format_unit(value, f"duration-{unit}", "long", locale=get_locale())


def theme_name(theme: Any) -> str:
    """A theme's name in the page's language (`Theme.name`)."""
    return theme.name(locale_name())


@blueprint.get("/language/<language>")
def choose(language: str) -> Response:
    """Keep the language asked for, and go back. A link, not a form: a visitor gets no session
    for it, and a forged one only changes the language."""
    if language not in LANGUAGES:
        abort(404)
    return remember(redirect(safe_next(request.args.get("next")), 303), language)


def remember(response: Response, language: str) -> Response:
    """Keep `language` in this browser's cookie: a member's choice stays once signed out."""
    response.set_cookie(COOKIE, language, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          str(PROJECT_ROOT / "frontend" / "translations"))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(blueprint)
    app.jinja_env.globals["languages"] = {"fr": "Français", "en": "English"}
    app.jinja_env.globals["locale_name"] = locale_name
    app.jinja_env.filters.update(euros=euros, theme_name=theme_name, duration=duration)
