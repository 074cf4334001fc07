"""Writes: preferences, subscriptions and their double opt-in, unsubscribing, and the record
of what was mailed (digests claimed and sent, notices sent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql

from maillage.accounts.models import User
from maillage.database import UTCDateTime, insert, session, utcnow
from maillage.emails.models import (
    CATEGORY_NAMES,
    Digest,
    EmailPreference,
    Frequency,
    Mode,
    SentNotice,
    Subscription,
)
from maillage.emails.queries import subscription_by_secret
from maillage.errors import Invalid, NotFound
from maillage.follows import operations as follows
from maillage.follows.models import Target
from maillage.i18n import LANGUAGES, check_language
from maillage.mail.addresses import normalise
from maillage.mail.models import Kind
from maillage.mail.operations import clear_failing, decide_confirmation, queue_mail
from maillage.themes.models import Theme
from maillage.themes.queries import get_theme, themes_by_slug
from maillage.towns.models import Town

# An unconfirmed address is forgotten after this long; its link stops working too.
CONFIRM_WITHIN = timedelta(days=2)


def set_preferences(user: User, *, frequency: Frequency | None = None,
                    modes: dict[str, Mode] | None = None) -> EmailPreference:
    """Change `user`'s choices; setting them also undoes "unsubscribe from everything"."""
    unknown = sorted(set(modes or {}) - set(CATEGORY_NAMES))
    if unknown:
        raise Invalid({"modes": [f"Unknown category: {name}." for name in unknown]})
    preference = session.get(EmailPreference, user.id)
    if preference is None:
        preference = EmailPreference(user_id=user.id, frequency=Frequency.WEEKLY, modes={})
        session.add(preference)
    if frequency is not None:
        preference.frequency = frequency
    if modes:
        preference.modes = {**preference.modes, **{name: Mode(mode).value
                                                   for name, mode in modes.items()}}
    preference.unsubscribed_at = None
    session.flush()
    return preference


def _subjects(themes: Sequence[str], towns: Sequence[str]) -> tuple[list[Theme], list[Town]]:
    found, missing = themes_by_slug(themes)
    wanted = list(dict.fromkeys(towns))
    places = {t.insee: t for t in session.scalars(sa.select(Town).where(Town.insee.in_(wanted)))}
    errors: dict[str, list[str]] = {}
    if missing:
        errors["themes"] = [f"Unknown theme: {slug}." for slug in missing]
    if [insee for insee in wanted if insee not in places]:
        errors["towns"] = [f"Unknown town: {insee}." for insee in wanted if insee not in places]
    if not found and not places and not errors:
        errors["themes"] = ["Choose at least one theme or one town."]
    if errors:
        raise Invalid(errors)
    return found, [places[insee] for insee in wanted]


def subscribe(email: str, *, themes: Sequence[str], towns: Sequence[str],
              frequency: Frequency, locale: str = LANGUAGES[0]) -> Subscription:
    """Ask for the digest of themes and towns at `email`; only a confirmation is mailed.

    The address's request waiting for confirmation takes the new choices, so that its links
    already mailed confirm what was asked last; a confirmed subscription stays as it is until
    this one is confirmed, so nobody changes another's subscription. The confirmation is
    mailed unless the address had its share of them (mail.operations): the caller answers
    the same either way, and says nothing of whether the address is known. `locale` is the
    language of its mail, the confirmation's first.
    """
    check_language(locale)
    email = normalise(email)
    chosen_themes, chosen_towns = _subjects(themes, towns)
    subscription = session.scalar(sa.select(Subscription).where(
        Subscription.email == email, Subscription.confirmed_at.is_(None)))
    if subscription is None:
        subscription = Subscription(email=email)
        session.add(subscription)
    subscription.frequency, subscription.locale = frequency, locale
    subscription.themes, subscription.towns = chosen_themes, chosen_towns
    mail = decide_confirmation(email)
    if mail is not None:
        subscription.created_at = utcnow()  # the days to confirm count from the last mail
    session.flush()
    if mail is not None:
        queue_mail(Kind.SUBSCRIPTION, subscription.id)
    return subscription


def confirm_subscription(secret: str) -> Subscription:
    """Confirm the address (double opt-in); it replaces the address's earlier subscription."""
    subscription = subscription_by_secret(secret)
    if subscription is None:
        raise NotFound(_("Cette demande d'abonnement a expiré ; abonnez-vous à nouveau."))
    if subscription.confirmed_at is None:
        session.execute(sa.delete(Subscription).where(Subscription.email == subscription.email,
                                                      Subscription.id != subscription.id))
        subscription.confirmed_at = utcnow()
        clear_failing(subscription.email)
        session.flush()
    return subscription


def forget_unconfirmed(now: datetime) -> int:
    """Delete the subscriptions left unconfirmed too long; return how many."""
    return session.execute(sa.delete(Subscription).where(
        Subscription.confirmed_at.is_(None),
        Subscription.created_at < now - CONFIRM_WITHIN)).rowcount


def unsubscribe(letter: str, key: str, topic: str, ref: str) -> str:
    """Act on an unsubscribe link: from everything, or from the theme or town named.

    `key` names the recipient: for a user (`letter` "u") their id, for an email-only
    subscriber ("s") the subscription's secret. For a user, leaving a theme or town is
    unfollowing it; for a subscriber, dropping it from the subscription, which ends when
    nothing is left. Returns what was left, for the page to say it. Doing it twice is no
    error.
    """
    if letter == "u":
        user = session.get(User, int(key))
        if user is None:
            raise NotFound(_("Ce compte n'existe plus."))
        if topic == "all":
            preference = session.get(EmailPreference, user.id) or EmailPreference(
                user_id=user.id, frequency=Frequency.WEEKLY, modes={})
            preference.unsubscribed_at = preference.unsubscribed_at or utcnow()
            session.add(preference)
        else:
            target: int | str | None = ref
            if topic == "theme":
                theme = get_theme(ref)
                target = theme.id if theme else None
            if target is not None:
                follows.unfollow(user, Target(topic), target)
        session.flush()
        return topic
    subscription = subscription_by_secret(key)
    if subscription is None:
        return "all"
    if topic == "theme":
        subscription.themes = [t for t in subscription.themes if t.slug != ref]
    elif topic == "town":
        subscription.towns = [t for t in subscription.towns if t.insee != ref]
    if topic == "all" or not (subscription.themes or subscription.towns):
        session.delete(subscription)
        topic = "all"
    session.flush()
    return topic


@dataclass(frozen=True)
class Claim:
    """A digest of a batch to record: its recipient, its window, its number of items."""

    recipient: int
    window_start: datetime
    window_from: str | None
    items: int


def claim_digests(key: str, frequency: Frequency, period_end: datetime, window_to: str,
                  claims: Sequence[Claim], leased_until: datetime) -> dict[int, int]:
    """Record the digests of a batch, the recipients being `key` ("user_id" or
    "subscription_id"); those with items are leased until `leased_until`, the empty ones need
    nothing more. Return {recipient id: digest id} of the digests with items this call
    recorded: one already recorded for its recipient and period is not claimed again."""
    if not claims:
        return {}
    returning = (getattr(Digest, key), Digest.id, Digest.items)
    if session.get_bind().dialect.name != "postgresql":
        rows = session.execute(
            insert(Digest).on_conflict_do_nothing().returning(*returning),
            [{key: claim.recipient, "frequency": frequency, "window_start": claim.window_start,
              "window_from": claim.window_from, "window_to": window_to,
              "period_end": period_end, "items": claim.items,
              "leased_until": leased_until if claim.items else None} for claim in claims])
        return {recipient: digest_id for recipient, digest_id, items in rows if items}
    # The batch as arrays, not thousands of parameters: psycopg would parse those out of the
    # statement's text again at every batch.
    batch = sa.func.unnest(
        sa.bindparam("recipients", [c.recipient for c in claims],
                     type_=postgresql.ARRAY(sa.BigInteger)),
        sa.bindparam("starts", [c.window_start for c in claims],
                     type_=postgresql.ARRAY(UTCDateTime())),
        sa.bindparam("froms", [c.window_from for c in claims], type_=postgresql.ARRAY(sa.Text)),
        sa.bindparam("items", [c.items for c in claims], type_=postgresql.ARRAY(sa.Integer)),
    ).table_valued("recipient", "window_start", "window_from", "items") \
        .render_derived(name="batch")
    rows = sa.select(batch.c.recipient, sa.literal(frequency, Digest.frequency.type),
                     batch.c.window_start, batch.c.window_from,
                     sa.literal(window_to, Digest.window_to.type),
                     sa.literal(period_end, Digest.period_end.type), batch.c["items"],
                     sa.literal(utcnow(), Digest.created_at.type),
                     sa.case((batch.c["items"] > 0,
                              sa.literal(leased_until, Digest.leased_until.type))))
    statement = insert(Digest).from_select(
        [key, "frequency", "window_start", "window_from", "window_to", "period_end", "items",
         "created_at", "leased_until"], rows,
    ).on_conflict_do_nothing().returning(*returning)
    return {recipient: digest_id
            for recipient, digest_id, items in session.execute(statement) if items}


def lease_digests(now: datetime, leased_until: datetime, *, ids: Sequence[int] | None = None,
                  frequency: Frequency | None = None, after: int = 0,
                  limit: int = 500) -> list[Digest]:
    """Lease, until `leased_until`, digests left unsent whose lease ran out by `now` (their
    run died, or a server refused them for now): those of `ids`, or the first after id
    `after` of `frequency` (of any frequency when None). Two runs at once lease none twice:
    the UPDATE checks the lease again on the row it locked."""
    expired = Digest.sent_at.is_(None) & (Digest.leased_until <= now)
    chosen = sa.select(Digest.id).where(expired, Digest.id > after)
    if ids is not None:
        chosen = chosen.where(Digest.id.in_(list(ids)))
    if frequency is not None:
        chosen = chosen.where(Digest.frequency == frequency)
    return list(session.scalars(
        sa.update(Digest).where(expired, Digest.id.in_(chosen.order_by(Digest.id).limit(limit)))
        .values(leased_until=leased_until).returning(Digest),
        execution_options={"synchronize_session": False}))


def mark_digests_sent(digest_ids: Sequence[int]) -> None:
    """Record that a server accepted the digests: they are never sent again.

    On the table, not the ORM class: a run marks a million digests, and the ORM's
    bookkeeping of an UPDATE (finding the rows it holds to change them too) took more of
    the run's CPU than building the messages (bench/README.md)."""
    if digest_ids:
        table = Digest.__table__
        session.execute(sa.update(table).where(table.c.id.in_(list(digest_ids)))
                        .values(sent_at=utcnow(), leased_until=None))


def settle_digests(digest_ids: Sequence[int]) -> None:
    """Send the digests no more, unsent: refused for good, or their reader gone."""
    if digest_ids:
        session.execute(sa.update(Digest).where(Digest.id.in_(list(digest_ids)))
                        .values(leased_until=None))


def release_digests(digest_ids: Sequence[int]) -> None:
    """End the lease of digests refused for now, for a retry or a sweep to take them."""
    if digest_ids:
        session.execute(sa.update(Digest).where(Digest.id.in_(list(digest_ids)),
                                                Digest.sent_at.is_(None))
                        .values(leased_until=utcnow()))


def record_notice_sent(notification_id: int) -> None:
    session.execute(insert(SentNotice).values(notification_id=notification_id, sent_at=utcnow())
                    .on_conflict_do_nothing())
