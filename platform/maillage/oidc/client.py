"""The Authlib client of the OpenID Connect provider, made per app when it is configured.

Authlib does the protocol: PKCE (S256), state and nonce kept in the signed session, the ID
token's signature checked against the provider's keys and its claims (iss, aud, exp, iat,
nonce, at_hash) validated. One client per app, not a module-level registry, so that two apps
in one process (the tests) never share a provider.
"""

from __future__ import annotations

from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app, session, url_for

EXTENSION = "maillage.oidc"
# The session key of the ID token that signed the person in; the provider's sign-out asks
# for it.
ID_TOKEN = "oidc_id_token"


def init_app(app: Flask) -> None:
    """Register the provider's client when its discovery URL, id and secret are all set."""
    config = app.config
    if not (config["OIDC_DISCOVERY_URL"] and config["OIDC_CLIENT_ID"]
            and config["OIDC_CLIENT_SECRET"]):
        app.extensions[EXTENSION] = None
        return
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth.register(
        "provider",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=config["OIDC_DISCOVERY_URL"],
        client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "timeout": 10},
    )


def provider() -> FlaskOAuth2App | None:
    """Return the current app's provider client, or None when sign-in by OIDC is off."""
    return current_app.extensions.get(EXTENSION)


def enabled() -> bool:
    """Tell the templates whether to show the provider's sign-in button."""
    return provider() is not None


def end_session_url() -> str | None:
    """Return the provider's sign-out address for a session signed in through it, or None.

    Pops the ID token: the local sign-out that calls this ends the session either way.
    """
    id_token = session.pop(ID_TOKEN, None)
    app = provider()
    if id_token is None or app is None:
        return None
    if not app.load_server_metadata().get("end_session_endpoint"):
        return None
    return app.create_logout_url(
        post_logout_redirect_uri=url_for("home", _external=True), id_token_hint=id_token,
        client_id=current_app.config["OIDC_CLIENT_ID"])["url"]
