"""Settings read from the environment, with embedded defaults that need no service at all.

With nothing set, Maillage runs on SQLite in the instance folder, runs its jobs inside the web
process and writes mail as .eml files; each variable below switches one part to a real service.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from maillage.fields import BIGINT_MAX, ascii_int

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def database_url(url: str) -> str:
    """Return a SQLAlchemy URL that uses psycopg 3 for a plain PostgreSQL URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the settings from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("MAILLAGE_INSTANCE") or PROJECT_ROOT / "instance").resolve()
    production = env.get("MAILLAGE_ENV", "development") == "production"
    return {
        "INSTANCE_PATH": instance,
        "PRODUCTION": production,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": database_url(env.get("DATABASE_URL") or f"sqlite:///{instance}/maillage.db"),
        "REDIS_URL": env.get("REDIS_URL") or None,
        # The Redis Pub/Sub channel of Socket.IO (Flask-SocketIO's own by default, which a bare
        # external emitter uses): channels are shared by every database of a
        # Redis server, so two Maillages on one server need two names.
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL", "flask-socketio"),
        "SMTP_URL": env.get("SMTP_URL") or None,
        # How many SMTP connections a digest run sends over at once.
        "SMTP_CONNECTIONS": _whole(env, "SMTP_CONNECTIONS", default=4, unit="connections"),
        "MAIL_DIR": Path(env.get("MAILLAGE_MAIL_DIR") or instance / "mail"),
        "MAIL_SENDER": env.get("MAIL_SENDER", "Maillage <ne-pas-repondre@maillage.localhost>"),
        # Replies by mail: the domain of the notices' Reply-To (`reply+<token>@<domain>`),
        # whose mail the MTA hands to `maillage mail receive` or `maillage mail lmtp`; unset,
        # notices carry no Reply-To. A reply address works this long after its notice.
        "MAIL_REPLY_DOMAIN": env.get("MAIL_REPLY_DOMAIN") or None,
        "MAIL_REPLY_MAX_AGE": timedelta(days=_positive(env, "MAIL_REPLY_MAX_AGE", default=30,
                                                       unit="days", example=30)),
        # Files of initiatives, help requests, answers and comments: each at most
        # ATTACHMENT_MAX_BYTES, an item's at most ATTACHMENT_MAX_COUNT and
        # ATTACHMENT_MAX_ITEM_BYTES in all; kept in the instance folder, or where STORAGE_URL
        # says (maillage.storage: file:///path, s3://bucket/prefix).
        "ATTACHMENT_MAX_BYTES": _whole(env, "ATTACHMENT_MAX_BYTES", default=10_000_000,
                                       unit="bytes"),
        "ATTACHMENT_MAX_ITEM_BYTES": _whole(env, "ATTACHMENT_MAX_ITEM_BYTES",
                                            default=30_000_000, unit="bytes"),
        "ATTACHMENT_MAX_COUNT": _whole(env, "ATTACHMENT_MAX_COUNT", default=20, unit="files"),
        "STORAGE_URL": env.get("STORAGE_URL") or None,
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        # Who answers for the site, as its legal notice (/legal-notice) names them: the law
        # (LCEN, article 6) asks a public site for its publisher, their address, the director
        # of publication and the host. Unset, the page says so rather than invent them. The
        # contact address is also the one given for accessibility and personal data.
        "LEGAL_PUBLISHER": env.get("LEGAL_PUBLISHER") or "Maillage",
        "LEGAL_ADDRESS": env.get("LEGAL_ADDRESS") or None,
        "LEGAL_DIRECTOR": env.get("LEGAL_DIRECTOR") or None,
        "LEGAL_HOST": env.get("LEGAL_HOST") or None,
        "LEGAL_CONTACT_EMAIL": env.get("LEGAL_CONTACT_EMAIL") or "contact@maillage.localhost",
        "SESSION_COOKIE_SECURE": production,
        # The largest request body, in bytes: a larger one is refused (413) before it is read.
        # The largest body any form or endpoint takes, an initiative (50,000 characters), stays
        # below 1 MiB even percent-encoded. A form or endpoint that takes files takes
        # ATTACHMENT_MAX_ITEM_BYTES more (bodies.takes_files).
        "MAX_CONTENT_LENGTH": _whole(env, "MAX_CONTENT_LENGTH", default=1024 * 1024,
                                     unit="bytes"),
        # The embedded worker thread sweeps the outbox this often (seconds); the scheduler
        # process does it with RQ.
        "SWEEP_INTERVAL": 60,
        # Webhooks may lead to loopback and private addresses, and over plain http: for tests
        # and development only (a hook is otherwise refused there: SSRF).
        "WEBHOOK_ALLOW_PRIVATE": env.get("WEBHOOK_ALLOW_PRIVATE") == "1",
        # Failed tries in a row, whichever deliveries, after which a webhook is disabled.
        "WEBHOOK_MAX_FAILURES": _whole(env, "WEBHOOK_MAX_FAILURES", default=10, unit="tries"),
        # The tries an event gets before it is marked failed and left alone (`maillage events
        # failed`, `maillage events replay`).
        "EVENT_MAX_TRIES": _whole(env, "EVENT_MAX_TRIES", default=5, unit="tries"),
        # The events a worker's first try of an event may process in its transaction, the
        # others untried ones of a backlog (workers.events); 1 processes each on its own.
        "EVENT_BATCH": _whole(env, "EVENT_BATCH", default=10, unit="events"),
        # A help request nobody answered or claimed within this delay reaches the next circle
        # (sooner when its deadline nears: help.queries.escalation_due).
        "HELP_ESCALATION_DELAY": _hours(env, "HELP_ESCALATION_DELAY", default=72),
        # A claim whose referent has not answered within this delay is released.
        "HELP_CLAIM_DELAY": _hours(env, "HELP_CLAIM_DELAY", default=72),
        # Days after the last answer before the asker is asked whether it solved the problem.
        "HELP_REMINDER": timedelta(days=_positive(env, "HELP_REMINDER", default=5,
                                                  unit="days", example=5)),
        # Notifications kept: the read ones this many days after they came, the unread ones
        # this many (notifications.retention); older ones are pruned every hour.
        "NOTIFICATIONS_KEEP_READ_DAYS": _positive(env, "NOTIFICATIONS_KEEP_READ_DAYS",
                                                  default=90, unit="days", example=90),
        "NOTIFICATIONS_KEEP_UNREAD_DAYS": _positive(env, "NOTIFICATIONS_KEEP_UNREAD_DAYS",
                                                    default=365, unit="days", example=365),
        # How often the embedded worker thread looks for requests to escalate (seconds).
        "HELP_ESCALATION_INTERVAL": 600,
        # Sign-in through an OpenID Connect provider (ProConnect, or any other): the button
        # shows only when the three first are set. The organisation claim carries the SIRET of
        # the person's employer, whose first nine digits are a town's SIREN.
        "OIDC_DISCOVERY_URL": env.get("OIDC_DISCOVERY_URL") or None,
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": env.get("OIDC_SCOPES", "openid email given_name usual_name siret"),
        "OIDC_ORGANISATION_CLAIM": env.get("OIDC_ORGANISATION_CLAIM", "siret"),
        # Accounts are linked by address only when the provider says it verified it
        # (email_verified); ProConnect verifies every address but sends no such claim.
        "OIDC_EMAILS_VERIFIED": env.get("OIDC_EMAILS_VERIFIED") == "1",
        # Limits in the syntax of the `limits` library; counted in Redis when REDIS_URL is set.
        "RATE_LIMIT_SIGN_IN": env.get("RATE_LIMIT_SIGN_IN", "10 per minute; 100 per hour"),
        "RATE_LIMIT_SIGN_UP": env.get("RATE_LIMIT_SIGN_UP", "5 per hour"),
        "RATE_LIMIT_TOKEN": env.get("RATE_LIMIT_TOKEN", "600 per minute"),
        "RATE_LIMIT_WRITE": env.get("RATE_LIMIT_WRITE", "60 per minute; 1000 per day"),
        # Wrong passwords in a row that lock password sign-in, and for how long (minutes).
        "LOCKOUT_ATTEMPTS": int(env.get("LOCKOUT_ATTEMPTS", "5")),
        "LOCKOUT_MINUTES": int(env.get("LOCKOUT_MINUTES", "15")),
        # How long a digest run holds the digests it claimed (seconds): past it, a run or the
        # sweep sends those still unsent (their run died). A batch must go out within it.
        "DIGEST_LEASE": _seconds(env, "DIGEST_LEASE", default=900),
        # How many jobs a digest run is split into, each sending to a share of the recipients:
        # as many as mail workers on cores of their own (a run is some 600 digests a second
        # in one process; docs/operations.md, "Scale").
        "DIGEST_PARTS": _whole(env, "DIGEST_PARTS", default=1, unit="jobs"),
        # How long a mailed password reset link works (hours); it works once in any case.
        "PASSWORD_RESET_MAX_AGE": _hours(env, "PASSWORD_RESET_MAX_AGE", default=1),
        # Log lines as plain text (`make run`) or one JSON object each (the Procfile's).
        "LOG_FORMAT": log_format(env),
        # When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # The folder where each web process keeps its request counters, for /metrics to add
        # them up; prometheus_client reads it from the environment itself, when imported.
        "PROMETHEUS_MULTIPROC_DIR": _folder(env, "PROMETHEUS_MULTIPROC_DIR"),
    }


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """LOG_FORMAT: `text` (the default) or `json`; read alone too, by gunicorn's master."""
    env = os.environ if environ is None else environ
    value = env.get("LOG_FORMAT") or "text"
    if value not in {"text", "json"}:
        raise SettingsError(f"LOG_FORMAT is text or json, not {value!r}.")
    return value


def _hours(env: Mapping[str, str], name: str, *, default: float) -> timedelta:
    return timedelta(hours=_positive(env, name, default=default, unit="hours", example=72))


def _seconds(env: Mapping[str, str], name: str, *, default: float) -> float:
    return _positive(env, name, default=default, unit="seconds", example=900)


def _positive(env: Mapping[str, str], name: str, *, default: float, unit: str,
              example: int) -> float:
    raw = env.get(name) or str(default)
    try:
        number = float(raw)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise SettingsError(f"{name} is a number of {unit} above 0 (for instance {example}), "
                            f"not {raw!r}.")
    return number


def _folder(env: Mapping[str, str], name: str) -> str | None:
    path = env.get(name)
    if path and not Path(path).is_dir():
        raise SettingsError(f"{name} is an existing folder (empty when the web processes "
                            f"start), not {path!r}: create it, or unset {name}.")
    return path or None


def _whole(env: Mapping[str, str], name: str, *, default: int, unit: str) -> int:
    raw = env.get(name) or str(default)
    number = ascii_int(raw, BIGINT_MAX)
    if not number:
        raise SettingsError(f"{name} is a number of {unit} above 0 (for instance {default}), "
                            f"not {raw!r}.")
    return number


def secret_key(config: Mapping[str, Any]) -> str:
    """Return the secret key, refusing to start production without one.

    In development a random key is kept in the instance folder so that sessions survive a
    restart; in production it must come from the environment, where operators can rotate it.
    """
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    if config["PRODUCTION"]:
        raise SettingsError(
            "SECRET_KEY is not set. A production start needs a long random SECRET_KEY in the "
            "environment, for instance: export SECRET_KEY=$(python3 -c "
            "'import secrets; print(secrets.token_urlsafe(48))')"
        )
    path = Path(config["INSTANCE_PATH"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
