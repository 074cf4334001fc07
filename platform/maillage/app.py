"""The application factory: extensions are created unbound and attached here, nothing earlier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, g
from flask_compress import Compress
from flask_login import current_user

import maillage.features
import maillage.models  # noqa: F401 (every model is mapped before the first query)
from maillage import (
    api,
    bodies,
    database,
    headers,
    i18n,
    limits,
    policy,
    queues,
    realtime,
    settings,
    storage,
)
from maillage.accounts import auth
from maillage.accounts.api import blueprint as accounts_api
from maillage.accounts.views import blueprint as accounts_pages
from maillage.attachments.api import blueprint as attachments_api
from maillage.attachments.views import blueprint as attachments_pages
from maillage.emails.api import blueprint as emails_api
from maillage.emails.views import blueprint as emails_pages
from maillage.figures.api import blueprint as figures_api
from maillage.figures.views import blueprint as figures_pages
from maillage.follows.api import blueprint as follows_api
from maillage.follows.views import blueprint as follows_pages
from maillage.health import logs, metrics
from maillage.health.views import blueprint as health_pages
from maillage.help.api import blueprint as help_api
from maillage.help.views import blueprint as help_pages
from maillage.home.views import home
from maillage.initiatives.api import blueprint as initiatives_api
from maillage.initiatives.views import blueprint as initiatives_pages
from maillage.legal.views import blueprint as legal_pages
from maillage.map.views import blueprint as map_pages
from maillage.moderation.api import blueprint as moderation_api
from maillage.moderation.views import blueprint as moderation_pages
from maillage.networks.api import blueprint as networks_api
from maillage.notifications.api import blueprint as notifications_api
from maillage.notifications.queries import UNREAD_CAP, unread_count
from maillage.notifications.views import blueprint as notifications_pages
from maillage.oidc import client as oidc_client
from maillage.oidc.views import blueprint as oidc_pages
from maillage.opendata.views import blueprint as opendata_pages
from maillage.privacy.api import blueprint as privacy_api
from maillage.privacy.views import blueprint as privacy_pages
from maillage.settings import PROJECT_ROOT
from maillage.themes.api import blueprint as themes_api
from maillage.themes.views import blueprint as themes_pages
from maillage.towns.api import blueprint as towns_api
from maillage.towns.views import blueprint as towns_pages
from maillage.webhooks.api import blueprint as webhooks_api

API_BLUEPRINTS = (towns_api, themes_api, accounts_api, initiatives_api, follows_api,
                  notifications_api, help_api, networks_api, figures_api, emails_api,
                  privacy_api, moderation_api, webhooks_api, attachments_api)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the Maillage application; `config` overrides the settings of the environment."""
    app = Flask(
        "maillage",
        template_folder=str(PROJECT_ROOT / "frontend" / "templates"),
        static_folder=str(PROJECT_ROOT / "frontend" / "static"),
    )
    app.url_map.converters["int"] = api.RowIdConverter
    app.config.update(settings.load())
    if config:
        app.config.update(config)
    app.config["SECRET_KEY"] = settings.secret_key(app.config)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    # Only the scripts and the stylesheet are compressed (the Socket.IO client is 47 KB, 15
    # gzipped): pages carry a CSRF token beside what a visitor typed, which compression would
    # expose to a BREACH attack, and they are a few KB anyway.
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/css", "text/javascript",
                                                 "application/javascript"])

    # First: the time a request takes counts every other hook, the commit included, and its
    # id is known to every line it logs.
    metrics.init_app(app)
    logs.init_app(app)
    bodies.init_app(app)  # before the rest: a body too large costs nothing
    database.init_app(app)
    storage.init_app(app)
    realtime.init_app(app)
    queues.init_app(app)
    limits.init_app(app)  # before auth: a refused request costs no query
    auth.init_app(app)
    oidc_client.init_app(app)
    api.init_app(app, API_BLUEPRINTS)
    headers.init_app(app)
    i18n.init_app(app)
    Compress(app)
    _register_pages(app)
    return app


def _register_pages(app: Flask) -> None:
    for blueprint in (accounts_pages, towns_pages, themes_pages, initiatives_pages,
                      notifications_pages, follows_pages, help_pages, figures_pages, map_pages,
                      emails_pages, attachments_pages, opendata_pages, legal_pages):
        app.register_blueprint(blueprint)
    app.register_blueprint(oidc_pages)
    app.register_blueprint(privacy_pages)
    app.register_blueprint(moderation_pages)
    app.register_blueprint(health_pages)
    app.jinja_env.globals["policy"] = policy
    app.jinja_env.globals["oidc_enabled"] = oidc_client.enabled
    app.jinja_env.globals["unread_notifications"] = _unread_notifications
    app.add_url_rule("/", "home", home)


def _unread_notifications() -> str:
    """The signed-in user's unread count as the header's badge says it ("99+" past the
    count's cap); counted once a request."""
    if "unread_notifications" not in g:
        count = unread_count(current_user.id)
        g.unread_notifications = f"{UNREAD_CAP - 1}+" if count >= UNREAD_CAP else str(count)
    return g.unread_notifications
