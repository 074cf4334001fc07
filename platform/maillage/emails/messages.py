"""The three messages of this capability: an immediate notice, a digest, a confirmation."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.message import Message
from itertools import groupby

from flask import render_template
from markupsafe import Markup, escape

from maillage.emails.models import Frequency, Subscription
from maillage.emails.queries import Context, Item, Notice, Recipient, is_urgent
from maillage.emails.texts import words
from maillage.mail.messages import absolute, assemble, compose, render
from maillage.mail.tokens import sign
from maillage.notifications import texts
from maillage.replies.tokens import reply_address


def unsubscribe_url(letter: str, key: str, topic: str = "all", ref: str = "") -> str:
    """The signed link that unsubscribes a recipient from everything, or from one topic;
    `key` names the recipient: a user's id (never reused), a subscription's secret."""
    return absolute(f"/unsubscribe/{sign('unsubscribe', letter, key, topic, ref)}")


def confirmation_url(subscription: Subscription) -> str:
    """The link that confirms a subscription: its secret, not its id, so that nobody who
    saw one link can guess another's."""
    return absolute(f"/subscriptions/confirm/{sign('confirm', subscription.secret, timed=True)}")


def notice_message(notice: Notice) -> Message:
    """One notification, mailed as it happens."""
    notification, locale = notice.notification, notice.locale
    what = texts.what(notification, locale)
    topic = notification.reason if notification.reason in ("theme", "town") else None
    # One answers a confidential request on its page, having read it there, not from a notice
    # that does not say what it is.
    reply_to = None if is_urgent(notification) else reply_address(notification.user_id,
                                                                    notification.data)
    quote = notice.quote
    return compose(
        to=notice.email, subject=what, template="notice", locale=locale,
        unsubscribe_url=unsubscribe_url("u", str(notification.user_id)), said=words(locale),
        what=what, why=texts.why(notification, locale, notice.theme_names),
        link=absolute(notification.data.get("link", "/")),
        stop_url=unsubscribe_url("u", str(notification.user_id), topic, notification.reason_ref)
        if topic else None,
        preferences_url=absolute("/me/email"), reply_to=reply_to,
        quote_text=quote.text if quote else None,
        # Rendered from Markdown and sanitised by nh3 (text.render_markdown) when written.
        quote_html=Markup(quote.html) if quote else None)


def digest_message(letter: str, reader: Recipient, frequency: Frequency,
                   context: Context, digest_id: int) -> Message:
    """The digest of `reader`'s items, grouped by theme (named in the reader's language),
    newest first in each group; its Message-ID names the digest's row, so that a digest sent
    again after a crash is known for the same one.

    Its bodies are rendered once in a run for each content (`_digest_bodies`), most readers
    sharing theirs with others; the reader's own links, signed with its key, go in the
    places left for them."""
    content = _digest_bodies(letter, reader, frequency, context)
    links = [unsubscribe_url(letter, reader.key),
             *(unsubscribe_url(letter, reader.key, *topic) for topic in content.topics)]
    # As the HTML template would have written them: a link of a BASE_URL with an "&".
    escaped = [str(escape(link)) for link in links]
    return assemble(to=reader.email, subject=content.subject, text=content.text.fill(links),
                    html=content.html.fill(escaped), locale=reader.locale,
                    unsubscribe_url=links[0], message_id=f"digest.{digest_id}")


# Where a reader's link goes in a digest rendered for all the readers of its content: a
# word of letters, digits and dashes, which HTML escaping leaves as it is, drawn anew in
# each process so that no item's text can hold it.
_SLOT = f"link-{secrets.token_hex(8)}-"
_SLOTS = re.compile(rf"{_SLOT}(\d+)-")


@dataclass(frozen=True)
class Holes:
    """A body rendered with a slot for each of its reader's links: the text between them,
    and which link goes in each slot."""

    pieces: tuple[str, ...]
    slots: tuple[int, ...]

    @classmethod
    def of(cls, body: str) -> Holes:
        parts = _SLOTS.split(body)
        return cls(tuple(parts[::2]), tuple(int(n) for n in parts[1::2]))

    def fill(self, links: list[str]) -> str:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out += (links[slot], piece)
        return "".join(out)


@dataclass(frozen=True)
class DigestBodies:
    subject: str
    text: Holes
    html: Holes
    topics: tuple[tuple[str, str], ...]  # those of the stop links, slots 1 and on


def _digest_bodies(letter: str, reader: Recipient, frequency: Frequency,
                   context: Context) -> DigestBodies:
    key = (letter, reader.locale, frequency,
           tuple((i.group, i.text, i.link, i.why, i.created_at, i.topic, i.summary)
                 for i in reader.items))
    found = context.digests.get(key)
    if found is not None:
        return found
    said = words(reader.locale)
    names = context.theme_names(reader.locale)
    other = str(said["other_group"])
    # Newest first, then by group: the sort is stable, and comparing dates costs less than
    # turning each into a number.
    ordered = sorted(reader.items, key=lambda item: item.created_at, reverse=True)
    ordered.sort(key=lambda item: (item.group == "", names.get(item.group, other)))
    stops: dict[tuple[str, str], str] = {}
    groups = []
    for group, items in groupby(ordered, key=lambda item: item.group):
        lines = []
        for item in items:
            if item.topic is not None and item.topic not in stops:
                stops[item.topic] = f"{_SLOT}{len(stops) + 1}-"
            text, html = _line(item, reader.locale, said, context)
            lines.append({"txt": text, "html": html,
                          "stop_url": stops.get(item.topic) if item.topic else None})
        groups.append({"name": names.get(group, other), "items": lines})
    subjects: dict[str, str] = said["digest_subject"]  # type: ignore[assignment]
    subject, text, html = render(
        "digest", reader.locale, subject=subjects[frequency.value].format(
            count=len(reader.items)),
        unsubscribe_url=f"{_SLOT}0-", said=said, groups=groups,
        preferences_url=absolute("/me/email") if letter == "u" else None, reply_to=None)
    bodies = DigestBodies(subject, Holes.of(text), Holes.of(html), tuple(stops))
    context.digests.put(key, bodies)
    return bodies


def _line(item: Item, locale: str, said: dict[str, object],
          context: Context) -> tuple[str, Markup]:
    """An item's line in text and HTML, rendered once in a run for each language, not once
    for each reader: its readers get the same line but for their stop link, which
    `digest_message` adds."""
    key = (item.text, item.link, item.why, item.summary, locale)
    if key not in context.lines:
        fields = {"text": item.text, "link": absolute(item.link), "why": item.why,
                  "summary": item.summary, "said": said}
        context.lines[key] = (render_template("mail/digest_line.txt", **fields),
                              Markup(render_template("mail/digest_line.html", **fields)))
    return context.lines[key]


def subscription_confirmation_message(subscription: Subscription) -> Message:
    """The one message sent before the address is confirmed."""
    said = words(subscription.locale)
    return compose(to=subscription.email, subject=str(said["confirm_subject"]),
                   template="confirm", locale=subscription.locale, said=said,
                   frequency=said[subscription.frequency.value],
                   confirm_url=confirmation_url(subscription),
                   themes=[t.name(subscription.locale) for t in subscription.themes],
                   towns=[t.name for t in subscription.towns])
