"""Rate limits: sign-in, sign-up, requests carrying a token, and every write.

Flask-Limiter counts in Redis when REDIS_URL is set, so that every web process shares the
counts, and in memory otherwise (the embedded mode has one process). While Redis does not
answer, each process counts in its own memory with the same limits (Flask-Limiter's in-memory
fallback, which tries Redis again now and then): writes go on, as their events and mails wait
in the database, and sign-in guesses stay limited. A refused request answers
429 with Retry-After: JSON under /api, a page elsewhere, as any other HTTP error.

The limiter runs before anyone is authenticated, so it never loads a user: a write is counted
per signed-in session, per token or per address, read from the request alone.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request, session
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address

from maillage.web import SAFE_METHODS


def _setting(name: str) -> str:
    return str(current_app.config[name])


def _requester() -> str:
    header = request.headers.get("Authorization")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    user_id = session.get("_user_id")
    if user_id:
        return f"user:{user_id}"
    return f"address:{get_remote_address()}"


limiter = Limiter(
    key_func=get_remote_address,
    application_limits=[
        ApplicationLimit(lambda: _setting("RATE_LIMIT_WRITE"), key_function=_requester,
                         exempt_when=lambda: request.method in SAFE_METHODS, scope="write"),
        # Per address, so that guessing tokens is slowed down as much as using one.
        ApplicationLimit(lambda: _setting("RATE_LIMIT_TOKEN"), key_function=get_remote_address,
                         exempt_when=lambda: "Authorization" not in request.headers,
                         scope="token"),
    ],
    headers_enabled=True,
    key_prefix="maillage",
)

# Decorators of the views that check a password or an identity, per address.
sign_in = limiter.shared_limit(lambda: _setting("RATE_LIMIT_SIGN_IN"), scope="sign-in",
                               methods=["POST"])
identity_check = limiter.shared_limit(lambda: _setting("RATE_LIMIT_SIGN_IN"), scope="sign-in")
sign_up = limiter.limit(lambda: _setting("RATE_LIMIT_SIGN_UP"), methods=["POST"])


def init_app(app: Flask) -> None:
    """Count in Redis when it is configured, in memory otherwise; before anything else runs."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # A Redis that does not answer costs a request a second at most, not the client's patience.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter.init_app(app)
