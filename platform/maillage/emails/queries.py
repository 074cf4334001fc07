"""Reads: preferences, the notices to send at once, and who gets which digest with what in it.

The digest queries work on a batch of recipients at a time, with the same few queries
whatever the batch's size: the recipients, their previous digests, what happened in their
windows.

Longer than the other modules (about 400 lines) because the two sources of recipients,
account holders and email-only subscribers, share one protocol (`Source`) that the digest run
walks; split, each half would read the other to be understood.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from markupsafe import Markup

from maillage import reactions
from maillage.accounts.models import User
from maillage.database import session
from maillage.emails.models import (
    CATEGORIES,
    Digest,
    EmailPreference,
    Frequency,
    Mode,
    SentNotice,
    Subscription,
    default_preference,
    immediate_by_default,
    subscription_themes,
    subscription_towns,
)
from maillage.emails.periods import previous_end
from maillage.emails.quotes import Quote, key_of, quotes
from maillage.emails.texts import words
from maillage.emails.windows import Model, Snapshot, Window, around, position
from maillage.events import Event
from maillage.mail.queries import not_failing
from maillage.moderation.queries import hidden_among
from maillage.notifications import texts
from maillage.notifications.models import Notification
from maillage.themes.models import Theme
from maillage.towns.models import Town


def _public_links() -> dict[str, str]:
    """The events email-only subscribers hear of (their reaction's `public_link`), and the
    page each links to; their payload names `title`, `town_insee` and `themes`, and those
    whose payload says `confidential` are left out."""
    return {reaction.event.kind: reaction.public_link for reaction in reactions.every()
            if reaction.public_link is not None}


def get_preference(user_id: int) -> EmailPreference:
    """Return `user_id`'s email preferences, the defaults if they never set any."""
    return session.get(EmailPreference, user_id) or default_preference(user_id)


def get_subscription(subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def subscription_by_secret(secret: str) -> Subscription | None:
    """Return the subscription whose links carry `secret`, or None."""
    return session.scalar(sa.select(Subscription).where(Subscription.secret == secret))


def _mailable(user: type[User]) -> sa.ColumnElement[bool]:
    """Account holders that mail may reach: their address confirmed, and not failing. Until
    the owner of an address confirmed it, an account made with it is sent nothing but the
    confirmation."""
    return user.email_confirmed_at.is_not(None) & not_failing(user.email)


def immediate_notices(event_id: int, kind: str, *, urgent: bool = False) -> list[int]:
    """Return the ids of event `event_id`'s notifications to mail at once, by the readers'
    choice, or all of them when `urgent` (a town under a cyber attack waits for no digest);
    `kind` is the event's kind."""
    if not reactions.of_kind(kind).category:
        return []  # it notifies nobody (a sign-out, a token revoked): nothing to mail
    query = (
        sa.select(Notification.id, Notification.kind, Notification.reason, EmailPreference)
        .join(User, User.id == Notification.user_id)
        .outerjoin(EmailPreference, EmailPreference.user_id == Notification.user_id)
        .where(Notification.event_id == event_id, _mailable(User),
               ~sa.exists().where(SentNotice.notification_id == Notification.id))
        .order_by(Notification.id))
    reasons = None if urgent else immediate_by_default(kind)
    if reasons is not None:
        chose = EmailPreference.user_id.is_not(None)
        query = query.where(chose | Notification.reason.in_(sorted(reasons)) if reasons
                            else chose)
    rows = session.execute(query)
    # Most readers never set preferences: one shared default, not an ORM object per row.
    default = default_preference(0)
    return [notification_id for notification_id, kind, reason, preference in rows
            if urgent or (preference or default).mode_of(kind, reason) is Mode.IMMEDIATE]


@dataclass
class Notice:
    notification: Notification
    email: str
    locale: str
    theme_names: dict[str, str]
    quote: Quote | None = None  # the text it is about, when its event quotes one


def notice(notification_id: int) -> Notice | None:
    """Return what an immediate notice needs, or None if it was sent or is no longer wanted."""
    row = session.execute(
        sa.select(Notification, User.email, User.locale)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id == notification_id, _mailable(User),
               ~sa.exists().where(SentNotice.notification_id == Notification.id))).first()
    if row is None:
        return None
    notification, email, locale = row
    if not is_urgent(notification) and get_preference(notification.user_id).mode_of(
            notification.kind, notification.reason) is not Mode.IMMEDIATE:
        return None
    names = {slug: theme.name(locale) for slug, theme in theme_map().items()}
    event = session.get(Event, notification.event_id)
    key = key_of(notification.kind, event.payload) if event is not None else None
    # A confidential request's notice says only where: its text waits behind the sign-in.
    quote = quotes([key]).get(key) if key is not None and not is_urgent(notification) else None
    return Notice(notification, email, locale, names, quote)


def is_urgent(notification: Notification) -> bool:
    """A notice of a confidential request (a security incident) goes at once, whatever its
    reader chose, and never waits in a digest."""
    return bool(notification.data.get("confidential"))


def theme_map() -> dict[str, Theme]:
    return {theme.slug: theme for theme in session.scalars(sa.select(Theme))}


@dataclass
class Item:
    """One line of a digest: what, where to read it, why it is there, which topic brought it."""

    group: str
    text: str
    link: str
    why: str
    created_at: datetime
    topic: tuple[str, str] | None = None
    summary: str = ""  # what the text it is about says, cut short (emails.quotes)


@dataclass
class Recipient:
    id: int
    email: str
    locale: str
    since: datetime
    preference: EmailPreference | None = None
    themes: frozenset[str] = frozenset()
    towns: frozenset[str] = frozenset()
    window: Window | None = None  # None: this period's digest was recorded already
    items: list[Item] = field(default_factory=list)
    key: str = ""  # what its unsubscribe links name: a user's id, a subscription's secret


@dataclass
class PublicEvent:
    created_at: datetime
    title: str
    town_insee: str
    town_name: str
    themes: list[str]
    link: str
    summary: str = ""


class PublicEvents:
    """A window's public events, newest first, found by theme and by town: a subscriber
    follows a few of each, and so reads the few events that name them, not all the week's."""

    def __init__(self, events: list[PublicEvent]) -> None:
        self.events = events
        self._by_theme: dict[str, list[int]] = {}
        self._by_town: dict[str, list[int]] = {}
        for n, event in enumerate(events):
            for slug in event.themes:
                self._by_theme.setdefault(slug, []).append(n)
            self._by_town.setdefault(event.town_insee, []).append(n)
        # The same item for each reader of an event, in a language, for the same reason.
        self.items: dict[tuple[int, str, str | None], Item] = {}

    def of(self, themes: Iterable[str], towns: Iterable[str]) -> list[int]:
        """The positions of the events naming any of `themes` or `towns`, newest first."""
        found: set[int] = set()
        for slug in themes:
            found.update(self._by_theme.get(slug, ()))
        for insee in towns:
            found.update(self._by_town.get(insee, ()))
        return sorted(found)


DIGESTS_KEPT = 1024


class Recent:
    """A mapping that keeps its `size` most recently used entries, for a run's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class Context:
    """What a digest run reads once: the themes, and the public events of each window."""

    def __init__(self) -> None:
        self.themes = theme_map()
        self._events: dict[Window, PublicEvents] = {}
        self._names: dict[str, dict[str, str]] = {}
        # Digest lines as rendered, by item and language: every reader of an item gets the
        # same line but for its stop link (emails.messages).
        self.lines: dict[tuple[str, str, str, str, str], tuple[str, Markup]] = {}
        self._summaries: dict[tuple[str, int], str] = {}
        # Digests' bodies as rendered, by content (emails.messages): readers of the same items
        # get the same, but for their links. Bounded: a run's readers may all differ.
        self.digests: Recent = Recent(DIGESTS_KEPT)

    def summaries(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The summaries of the texts `keys` name, each read once in a run: most readers of a
        batch share their items."""
        wanted = set(keys) - self._summaries.keys()
        if wanted:
            found = quotes(wanted)
            self._summaries |= {key: found[key].summary if key in found else ""
                                for key in wanted}
        return self._summaries

    def theme_names(self, locale: str) -> dict[str, str]:
        """The themes' names in `locale`, by slug."""
        if locale not in self._names:
            self._names[locale] = {slug: t.name(locale) for slug, t in self.themes.items()}
        return self._names[locale]

    def public_events(self, window: Window) -> PublicEvents:
        """The public events of `window` (most subscribers of a run share their window: the
        previous run's)."""
        if window not in self._events:
            self._events[window] = PublicEvents(_public_events(window))
        return self._events[window]


def _public_events(window: Window) -> list[PublicEvent]:
    links = _public_links()
    events = list(session.scalars(
        sa.select(Event).where(Event.kind.in_(list(links)), window.where(Event))
        .order_by(Event.created_at.desc(), Event.id.desc())))
    named = {event.id: [(kind, event.payload[key])
                        for kind, key in reactions.of_kind(event.kind).about.items()]
             for event in events}
    hidden = hidden_among(pair for pairs in named.values() for pair in pairs)
    insees = {e.payload["town_insee"] for e in events}
    towns = dict(session.execute(sa.select(Town.insee, Town.name)
                                 .where(Town.insee.in_(insees))).all()) if insees else {}
    shown = [e for e in events
             if hidden.isdisjoint(named[e.id]) and not e.payload.get("confidential")]
    keys = {e.id: key_of(e.kind, e.payload) for e in shown}
    found = quotes(key for key in keys.values() if key is not None)
    return [PublicEvent(e.created_at, e.payload["title"], e.payload["town_insee"],
                        towns.get(e.payload["town_insee"], e.payload["town_insee"]),
                        list(e.payload.get("themes", [])),
                        links[e.kind].format(**e.payload),
                        found[keys[e.id]].summary if keys[e.id] in found else "")
            for e in shown]


@dataclass(frozen=True)
class Part:
    """The share of a run's recipients whose ids leave `number` when divided by `of`: a
    run split over several mail workers (DIGEST_PARTS), each sending one share."""

    number: int = 0
    of: int = 1

    def holds(self, column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        return column % self.of == self.number if self.of > 1 else sa.true()


WHOLE = Part()


class Source:
    """Where digest recipients come from; `letter` marks them in unsubscribe tokens."""

    letter: ClassVar[str]
    key: ClassVar[str]  # the column of `digests` naming the recipient
    model: ClassVar[Model]  # what their items are, in commit order (emails.windows)

    def batch(self, frequency: Frequency, after: int, size: int,
              part: Part = WHOLE) -> list[Recipient]:
        raise NotImplementedError

    def some(self, ids: list[int]) -> list[Recipient]:
        """The recipients of `ids` that mail may still reach, whatever their frequency now
        (digests claimed for them, to send again)."""
        raise NotImplementedError

    def fill(self, recipients: list[Recipient], context: Context) -> None:
        """Put in each recipient's `items` what happened in its window."""
        raise NotImplementedError

    def count(self, frequency: Frequency) -> int:
        raise NotImplementedError


def _group(themes: Iterable[str], preferred: str | None = None) -> str:
    return preferred or next(iter(themes), "")


class Users(Source):
    """Account holders: their notifications of the window that they want in a digest."""

    letter = "u"
    key = "user_id"
    model = Notification

    def _query(self, frequency: Frequency | None = None, part: Part = WHOLE) -> sa.Select:
        query = (sa.select(User.id, User.email, User.locale, User.created_at, EmailPreference)
                 .outerjoin(EmailPreference, EmailPreference.user_id == User.id)
                 .where(EmailPreference.unsubscribed_at.is_(None), _mailable(User),
                        part.holds(User.id)))
        if frequency is None:
            return query
        return query.where(sa.func.coalesce(EmailPreference.frequency, Frequency.WEEKLY.value)
                           == frequency.value)

    @staticmethod
    def _recipients(rows: Iterable[sa.Row[Any]]) -> list[Recipient]:
        return [Recipient(user_id, email, locale, created_at,
                          preference or default_preference(user_id), key=str(user_id))
                for user_id, email, locale, created_at, preference in rows]

    def batch(self, frequency: Frequency, after: int, size: int,
              part: Part = WHOLE) -> list[Recipient]:
        return self._recipients(session.execute(
            self._query(frequency, part).where(User.id > after).order_by(User.id).limit(size)))

    def some(self, ids: list[int]) -> list[Recipient]:
        return self._recipients(session.execute(self._query().where(User.id.in_(ids))))

    def count(self, frequency: Frequency) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(
            self._query(frequency).subquery())) or 0

    def fill(self, recipients: list[Recipient], context: Context) -> None:
        by_id = {r.id: r for r in recipients if r.window is not None}
        if not by_id:
            return
        windows = {reader.id: reader.window for reader in by_id.values()
                   if reader.window is not None}
        rows = session.execute(
            sa.select(Notification, position(Notification), Event.payload)
            .join(Event, Event.id == Notification.event_id)
            .where(Notification.user_id.in_(list(by_id)),
                   around(list(windows.values()), Notification),
                   ~sa.exists().where(SentNotice.notification_id == Notification.id))
            .order_by(Notification.created_at.desc(), Notification.id.desc()))
        quoted: list[tuple[Item, tuple[str, int]]] = []
        for notification, at, payload in rows:
            reader = by_id[notification.user_id]
            if is_urgent(notification) \
                    or not windows[reader.id].holds(at, notification.created_at) \
                    or reader.preference.mode_of(notification.kind, notification.reason) \
                    is not Mode.DIGEST:
                continue
            topic = (notification.reason, notification.reason_ref) \
                if notification.reason in ("theme", "town") else None
            item = Item(
                _group(payload.get("themes", []), notification.reason_ref
                       if notification.reason == "theme" else None),
                texts.what(notification, reader.locale), notification.data.get("link", "/"),
                texts.why(notification, reader.locale, context.theme_names(reader.locale)),
                notification.created_at, topic)
            reader.items.append(item)
            key = key_of(notification.kind, payload)
            if key is not None:
                quoted.append((item, key))
        summaries = context.summaries(key for _item, key in quoted)
        for item, key in quoted:
            item.summary = summaries[key]


class Subscriptions(Source):
    """Email-only subscribers: the public events of their themes and towns in the window."""

    letter = "s"
    key = "subscription_id"
    model = Event

    def _query(self, frequency: Frequency | None = None, part: Part = WHOLE) -> sa.Select:
        query = sa.select(Subscription.id, Subscription.email, Subscription.locale,
                          sa.func.coalesce(Subscription.confirmed_at, Subscription.created_at),
                          Subscription.secret).where(Subscription.confirmed_at.is_not(None),
                                                     not_failing(Subscription.email),
                                                     part.holds(Subscription.id))
        return query if frequency is None else query.where(Subscription.frequency == frequency)

    def batch(self, frequency: Frequency, after: int, size: int,
              part: Part = WHOLE) -> list[Recipient]:
        return self._recipients(self._query(frequency, part).where(Subscription.id > after)
                                .order_by(Subscription.id).limit(size))

    def some(self, ids: list[int]) -> list[Recipient]:
        return self._recipients(self._query().where(Subscription.id.in_(ids)))

    @staticmethod
    def _recipients(query: sa.Select) -> list[Recipient]:
        # Columns and two plain queries, not the models: loading Town objects would load
        # their postal codes too, 500 towns a query.
        readers = [Recipient(*row, key=secret) for *row, secret in session.execute(query)]
        ids = [reader.id for reader in readers]
        themes: dict[int, set[str]] = {}
        towns: dict[int, set[str]] = {}
        for subscription_id, slug in session.execute(
                sa.select(subscription_themes.c.subscription_id, Theme.slug)
                .join(Theme, Theme.id == subscription_themes.c.theme_id)
                .where(subscription_themes.c.subscription_id.in_(ids))):
            themes.setdefault(subscription_id, set()).add(slug)
        for subscription_id, insee in session.execute(
                sa.select(subscription_towns.c.subscription_id, subscription_towns.c.town_insee)
                .where(subscription_towns.c.subscription_id.in_(ids))):
            towns.setdefault(subscription_id, set()).add(insee)
        for reader in readers:
            reader.themes = frozenset(themes.get(reader.id, ()))
            reader.towns = frozenset(towns.get(reader.id, ()))
        return readers

    def count(self, frequency: Frequency) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(
            self._query(frequency).subquery())) or 0

    def fill(self, recipients: list[Recipient], context: Context) -> None:
        for reader in recipients:
            if reader.window is not None:
                public = context.public_events(reader.window)
                reader.items += [self._item(public, n, reader, context)
                                 for n in public.of(reader.themes, reader.towns)]

    @staticmethod
    def _item(public: PublicEvents, n: int, reader: Recipient, context: Context) -> Item:
        """The item of the `n`th event for `reader`: why it is there, a theme it follows
        (the event's first) or else its town."""
        event = public.events[n]
        theme = next((slug for slug in event.themes if slug in reader.themes), None)
        key = (n, reader.locale, theme)
        if key not in public.items:
            said = words(reader.locale)
            if theme is not None:
                name = context.theme_names(reader.locale).get(theme, theme)
                why, topic = str(said["why_theme"]).format(name=name), ("theme", theme)
            else:
                why = str(said["why_town"]).format(name=event.town_name)
                topic = ("town", event.town_insee)
            public.items[key] = Item(_group(event.themes, theme),
                                     f"{event.title} ({event.town_name})", event.link, why,
                                     event.created_at, topic, event.summary)
        return public.items[key]


SOURCES: dict[str, Source] = {source.letter: source for source in (Users(), Subscriptions())}


def set_windows(source: Source, recipients: list[Recipient], frequency: Frequency,
                period_end: datetime, end: Snapshot) -> None:
    """Give each recipient its window: from where its previous digest ended to `end`; None
    when this period's digest was recorded already.

    A first digest covers one period, or less for someone who arrived within it.
    """
    if not recipients:
        return
    column = getattr(Digest, source.key)
    latest = (sa.select(column.label("recipient"), sa.func.max(Digest.period_end).label("end"))
              .where(column.in_([r.id for r in recipients])).group_by(column).subquery())
    last = {recipient: (ended, window_to) for recipient, ended, window_to in session.execute(
        sa.select(column, Digest.period_end, Digest.window_to)
        .join(latest, (column == latest.c.recipient) & (Digest.period_end == latest.c.end)))}
    for reader in recipients:
        previous, window_to = last.get(reader.id, (None, None))
        if previous is None:
            reader.window = Window(None, max(reader.since, previous_end(frequency, period_end)),
                                   end)
        elif previous < period_end:
            reader.window = Window(Snapshot.parse(window_to) if window_to else None, previous,
                                   end)
        else:
            reader.window = None


def preferences_view(user_id: int) -> dict[str, Any]:
    """The preferences as the API and the page show them: every category, with its mode."""
    preference = get_preference(user_id)
    return {"frequency": preference.frequency.value,
            "modes": {category.name: preference.mode(category).value
                      for category in CATEGORIES},
            "unsubscribed": preference.unsubscribed_at is not None}
