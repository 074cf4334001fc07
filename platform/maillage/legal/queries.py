"""What the legal pages state, read where the code decides it: a page that copied a setting
or a delay by hand would go on stating it once it changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from maillage.attachments.operations import ORPHAN_AGE
from maillage.emails.operations import CONFIRM_WITHIN
from maillage.i18n import COOKIE_AGE
from maillage.mail import operations as mail
from maillage.webhooks import operations as webhooks


@dataclass(frozen=True)
class Publisher:
    """Who answers for the site (the legal notice); None where the operator has not said."""

    name: str
    address: str | None
    director: str | None
    host: str | None
    contact: str


@dataclass(frozen=True)
class Retention:
    """How long each kind of record lasts, in the unit the privacy page names it in."""

    unconfirmed_subscription_days: int
    reply_address_days: int
    password_reset_hours: float
    lockout_minutes: int
    mail_kept_days: int
    delivery_kept_days: int
    orphan_file_hours: float
    language_cookie_days: int


def publisher(config: Mapping[str, Any]) -> Publisher:
    """The publisher, as the LEGAL_* settings give it."""
    return Publisher(name=config["LEGAL_PUBLISHER"], address=config["LEGAL_ADDRESS"],
                     director=config["LEGAL_DIRECTOR"], host=config["LEGAL_HOST"],
                     contact=config["LEGAL_CONTACT_EMAIL"])


def retention(config: Mapping[str, Any]) -> Retention:
    """The durations of the settings in `config` and of the delays the code keeps."""
    return Retention(
        unconfirmed_subscription_days=CONFIRM_WITHIN.days,
        reply_address_days=_days(config["MAIL_REPLY_MAX_AGE"]),
        password_reset_hours=config["PASSWORD_RESET_MAX_AGE"] / timedelta(hours=1),
        lockout_minutes=int(config["LOCKOUT_MINUTES"]),
        mail_kept_days=mail.KEEP_DONE.days,
        delivery_kept_days=webhooks.KEEP_DONE.days,
        orphan_file_hours=ORPHAN_AGE / timedelta(hours=1),
        language_cookie_days=COOKIE_AGE // (24 * 3600),
    )


def _days(delay: timedelta) -> int:
    return round(delay / timedelta(days=1))
