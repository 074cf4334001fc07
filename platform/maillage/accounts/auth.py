"""Who is asking: session cookies with CSRF protection, or personal tokens as Bearer.

A cookie-authenticated write must carry the CSRF token (form field `csrf_token` or header
`X-CSRFToken`); a Bearer request needs none, since a browser never adds it by itself, but a
read-scoped token may only read.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden, Unauthorized
from werkzeug.wrappers import Response

from maillage.accounts import operations, queries
from maillage.accounts.models import Scope, User
from maillage.api import is_api_request
from maillage.fields import ascii_int

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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
    user_id, _, _mark = session_id.partition(".")
    row_id = ascii_int(user_id)
    user = queries.get_user(row_id) if row_id is not None else None
    # A session opened before the password last changed carries another mark: nobody.
    return user if user is not None and hmac.compare_digest(user.get_id(), session_id) else None


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
    if header is None:
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


def safe_next(target: str | None, default: str = "/") -> str:
    """Return `target` if it is a path on this site, else `default`: no open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target
