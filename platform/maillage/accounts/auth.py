"""Who is asking: session cookies with CSRF protection, or personal tokens as Bearer.

A cookie-authenticated write must carry the CSRF token (form field `csrf_token` or header
`X-CSRFToken`); a Bearer request needs none, since a browser never adds it by itself, but a
read-scoped token may only read. A request that carries a token is its owner's whatever
cookie comes with it: a page that adds a token to a signed-in browser's request never acts as
the browser's user.

A session keeps the user's id and session secret (`User.get_id`), and a random mark of the
browser's sign-in (`SIGN_IN`) that names the room of the sockets it opens, closed when that
browser signs out.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, g, redirect, request, session, url_for
from flask_babel import refresh
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden, Unauthorized
from werkzeug.wrappers import Response

from maillage.accounts import operations, queries
from maillage.accounts.models import Scope, User
from maillage.fields import ascii_int
from maillage.web import SAFE_METHODS, has_own_authorization, is_api_request

SIGN_IN = "maillage.sign_in"  # the session key of the browser's sign-in mark

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Attach sign-in sessions, Bearer tokens and CSRF protection."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.before_request(_authenticate_bearer)
    app.before_request(_protect_cookie_writes)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    if "Authorization" in request.headers:
        return None  # the token says who asks (the request loader), never the cookie
    user_id, _, _secret = session_id.partition(".")
    row_id = ascii_int(user_id)
    user = queries.get_user(row_id) if row_id is not None else None
    # A session opened before the account's sessions were ended carries the old secret.
    return user if user is not None and hmac.compare_digest(user.get_id(), session_id) else None


def sign_in(user: User) -> None:
    """Sign this browser in as `user`, with a new mark for the sockets it will open; what
    the request says from now on is in the account's language."""
    login_user(user)
    session[SIGN_IN] = secrets.token_urlsafe(12)
    refresh()


def sign_out() -> None:
    """Sign this browser out, and have the sockets it opened closed once this commits."""
    if current_user.is_authenticated:
        operations.sign_out(current_user, session.get(SIGN_IN))
    logout_user()
    session.pop(SIGN_IN, None)
    refresh()


@login_manager.request_loader
def _load_token_user(_request: object) -> User | None:
    token = g.get("api_token")
    return token.user if token is not None else None


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    if is_api_request():
        raise Unauthorized("Sign in, or send a personal token as 'Authorization: Bearer ...'.")
    return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))


def _authenticate_bearer() -> None:
    header = request.headers.get("Authorization")
    if header is None or has_own_authorization():
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    token = queries.token_by_secret(secret.strip())
    if token is None:
        raise Unauthorized("This token is unknown or revoked.")
    if request.method not in SAFE_METHODS and token.scope != Scope.WRITE:
        raise Forbidden("This token may only read; create a token of scope 'write' to write.")
    operations.touch_token(token)
    g.api_token = token


def _protect_cookie_writes() -> None:
    # A write to no route at all answers 404 or 405, which tells more than a CSRF refusal.
    if request.routing_exception is not None:
        return
    # An API call with neither token nor session has nothing to forge: it answers 401.
    if is_api_request() and not current_user.is_authenticated:
        return
    if request.method not in SAFE_METHODS and g.get("api_token") is None:
        csrf.protect(apply_exemptions=True)
