"""A demo network, so that a first `make run` shows Maillage as it will be.

Forty real small towns of six regions, from the official data; two networks and their label
awards; members of every role; initiatives of every theme with their "we did it too", records
and comments; help requests in every state of their way; offers, follows, and unread
notifications for each demo account. The texts are in `data/network.toml`, as towns would
write them. Everything goes through the domain operations, so that events and notifications
are real; the dates they stamp are then moved back, to spread the story over the last months.

Loading it again changes nothing. `size` multiplies the towns and initiatives, for benches.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, User, VerificationSource
from maillage.accounts.queries import user_by_email
from maillage.attachments.models import Attachment
from maillage.attachments.operations import File
from maillage.database import UTCDateTime, session, utcnow
from maillage.events import Event
from maillage.follows.models import Follow, Target
from maillage.follows.operations import follow
from maillage.help.models import HelpAnswer, HelpClaim, HelpOffer, HelpRequest, HelpStep
from maillage.help.operations import (
    accept,
    answer,
    ask_for_help,
    claim,
    close,
    escalate_unanswered,
    offer_help,
)
from maillage.initiatives.models import Comment, Initiative, Record, Replication
from maillage.initiatives.operations import comment_on, publish_initiative, replicate
from maillage.networks.models import LabelAward, NetworkMembership
from maillage.networks.operations import add_board_seat, create_network
from maillage.networks.queries import get_network
from maillage.themes.operations import load_themes
from maillage.themes.queries import get_theme
from maillage.towns.models import Town
from maillage.towns.operations import import_communes

PASSWORD = "maillage-demo"
HERE = Path(__file__).parent
FILES = HERE / "files"
DATA = HERE / "data" / "network.toml"
TOWN_ACCOUNT = "mairie@{insee}.maillage.localhost"
LABEL_YEARS = (2024, 2025)
# The rows the demo's operations write with a date, which `_Story` moves back.
DATED = (Initiative, Comment, Replication, Record, HelpRequest, HelpAnswer, HelpStep, HelpClaim,
         HelpOffer, Follow, Event, Attachment)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    description: str
    town: Town | None
    role: Role | None
    verified: bool
    admin: bool
    moderator: bool
    expertise: list[str]
    follows: list[str]


def load_demo(size: int = 1) -> list[tuple[str, str]]:
    """Create the demo network, unless its accounts are there already; return the demo
    accounts with what each can show."""
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    load_themes()
    if session.scalar(sa.select(sa.func.count()).select_from(Town)) == 0:
        import_communes()
    towns = _towns(data["towns"], size)
    people = [_person(row, {town.insee: town for town in towns}) for row in data["people"]]
    shown = [(person.email, person.description) for person in people]
    shown.append((TOWN_ACCOUNT.format(insee="<INSEE>"),
                  f"a verified agent of each of the {len(towns)} demo towns"))
    if user_by_email(people[0].email) is not None:
        return shown
    _networks(data["networks"], towns)
    _accounts(people, towns)
    story = _Story()
    base = len(data["towns"])
    for copy in range(size):
        for index, row in enumerate(data["initiatives"]):
            _initiative(story, row, towns[copy * base:(copy + 1) * base], index, copy)
    delay = current_app.config["HELP_ESCALATION_DELAY"]
    for row in data["help"]:
        _help_request(story, row, delay)
    story.tell()
    # The requests asked long enough ago are widened as the scheduler would have, yesterday.
    escalate_unanswered(utcnow() - timedelta(days=1), delay)
    for row in data["offers"]:
        offer_help(user_by_email(row["by"]), themes=row["themes"], title=row["title"],
                        body=row["body"], town=row.get("town"))
    return shown


def _towns(codes: list[str], size: int) -> list[Town]:
    """The demo towns, then for a larger size as many more per copy, of 2,500 to 25,000
    inhabitants across France."""
    chosen = {town.insee: town for town in session.scalars(
        sa.select(Town).where(Town.insee.in_(codes)))}
    towns = [chosen[code] for code in codes]
    if size > 1:
        towns += session.scalars(
            sa.select(Town).where(Town.population.between(2_500, 25_000),
                                  Town.insee.not_in(codes))
            .order_by(Town.insee).limit((size - 1) * len(codes)))
    return towns


def _person(row: dict[str, Any], towns: dict[str, Town]) -> DemoPerson:
    town = towns[row["town"]] if "town" in row else None

    def fill(text: str) -> str:
        return text.format(insee=town.insee, town=town.name) if town else text

    return DemoPerson(
        email=fill(row["email"]), name=fill(row["name"]), description=fill(row["description"]),
        town=town, role=Role(row["role"]) if "role" in row else None,
        verified=row.get("verified", True), admin=row.get("admin", False),
        moderator=row.get("moderator", False), expertise=row.get("expertise", []),
        follows=row.get("follows", []))


def _networks(rows: list[dict[str, Any]], towns: list[Town]) -> None:
    for row in rows:
        network = get_network(row["slug"]) or create_network(row["slug"], row["name"],
                                                             row["description"])
        for index, town in enumerate(towns[::row["every"]]):
            session.add(NetworkMembership(network_id=network.id, town_insee=town.insee,
                                          since_year=row["since"] + index % 8))
            if row.get("labels"):
                session.add_all(LabelAward(town_insee=town.insee, year=year,
                                           level=1 + (index + year) % 5)
                                for year in LABEL_YEARS)
        for seat in row.get("board", []):
            add_board_seat(None, network, town=seat["town"], role=seat["role"])
    session.flush()


def _accounts(people: list[DemoPerson], towns: list[Town]) -> None:
    """Create the demo people, then one verified agent per town who posts for it. One
    password hash serves them all: hashing it costs half a second each."""
    admin = accounts.create_user(people[0].email, people[0].name, PASSWORD, confirmed=True,
                                 is_admin=people[0].admin)
    for person in people[1:]:
        user = _account(person.email, person.name, admin, person.admin, person.moderator)
        if person.town is not None and person.role is not None:
            _join(user, person.town, person.role, admin if person.verified else None)
        if person.expertise:
            accounts.set_expertise(user, person.expertise)
    for town in towns:
        user = _account(TOWN_ACCOUNT.format(insee=town.insee), f"Mairie de {town.name}", admin)
        _join(user, town, Role.AGENT, admin)
    for person in people:
        user = user_by_email(person.email)
        for target in person.follows:
            kind, key = target.split(":")
            if kind == "theme":
                follow(user, Target.THEME, get_theme(key).id)
            else:
                follow(user, Target.TOWN, key)


def _account(email: str, name: str, admin: User, is_admin: bool = False,
             is_moderator: bool = False) -> User:
    user = accounts.create_user(email, name, confirmed=True, is_admin=is_admin,
                                is_moderator=is_moderator)
    user.password_hash = admin.password_hash
    return user


def _join(user: User, town: Town, role: Role, verifier: User | None) -> None:
    membership = accounts.join_town(user, town.insee, role)
    if verifier is not None:
        accounts.verify_membership(membership, verifier, VerificationSource.ADMIN)


def _author(town: str, address: str = TOWN_ACCOUNT) -> User:
    user = user_by_email(address.format(insee=town))
    assert user is not None, address
    return user


def _initiative(story: _Story, row: dict[str, Any], towns: list[Town], index: int,
                copy: int) -> None:
    """Publish an initiative, then, in the original network only, its "we did it too" and
    its comments by the towns that follow its own in the list, spread until today."""
    codes = [town.insee for town in towns]
    own = {} if copy else row  # a copy is by a town of its own, without the original's files
    town = own.get("town", codes[index % len(codes)])
    author = _author(town, own.get("author", TOWN_ACCOUNT))
    days = timedelta(days=row["days_ago"])
    record = _record(row["record"], contact_id=author.id) if "record" in row else None
    files = [File(name, (FILES / path).read_bytes()) for name, path in own.get("files", [])]
    title = f"{row['title']} ({towns[index % len(towns)].name})" if copy else row["title"]
    with story.back(days):
        initiative = publish_initiative(
            author, town=town, title=title, summary=row["summary"], body=row["body"],
            themes=row["themes"], status=row["status"], record=record, files=files)
    if copy:
        return
    replications, comments = row.get("replications", []), row.get("comments", [])
    later = len(replications) + len(comments) + 1
    start = codes.index(town)
    for step, each in enumerate(replications, start=1):
        code = each.get("town", codes[(start + step) % len(codes)])
        with story.back(days * (later - step) / later):
            replicate(_author(code), initiative, town=code, note=each["note"],
                      record=_record(each["record"]) if "record" in each else None)
    for step, body in enumerate(comments, start=len(replications) + 1):
        with story.back(days * (later - step) / later):
            comment_on(_author(codes[(start + step) % len(codes)]), initiative, body)


def _record(row: dict[str, Any], **more: Any) -> dict[str, Any]:
    funding = [{"scheme": scheme, "amount_eur": amount}
               for scheme, amount in row.get("funding", {}).items()]
    return {**row, "funding": funding, **more}


def _help_request(story: _Story, row: dict[str, Any], delay: timedelta) -> None:
    """Ask, then bring the request to its state the way people would: claimed by a referent,
    answered, its first answer accepted, or closed by its asker; one answer a day. A request
    to be escalated is asked long enough ago for the escalation `delay` to have passed."""
    asker = _author(row["town"], row.get("author", TOWN_ACCOUNT))
    days = row["days_ago"]
    if row["state"] == "escalated":
        days = max(days, (delay + timedelta(days=2)).days)
    with story.back(timedelta(days=days)):
        request = ask_for_help(asker, town=row["town"], themes=row["themes"],
                               title=row["title"], body=row["body"],
                               confidential=row.get("confidential", False))
    if row["state"] == "claimed":
        with story.back(timedelta(days=days) / 2):
            claim(user_by_email(row["claimed_by"]), request)
    answers = []
    for step, each in enumerate(row.get("answers", []), start=1):
        with story.back(timedelta(days=max(days - step, 0))):
            answers.append(answer(user_by_email(each["by"]), request, each["body"]))
    with story.back(timedelta(days=max(days - len(answers) - 1, 0))):
        if row["state"] == "accepted":
            accept(asker, request, answers[0].id)
        elif row["state"] == "closed":
            close(asker, request)


class _Story:
    """The operations stamp the present; the demo tells of the last months. `back` notes what
    a block wrote, `tell` then moves back by its delay the dates stamped in each block, on the
    rows written or changed, all at once."""

    def __init__(self) -> None:
        self.start = utcnow()
        self.blocks: list[tuple[datetime, datetime, timedelta]] = []

    @contextmanager
    def back(self, delay: timedelta) -> Iterator[None]:
        start = utcnow()
        yield
        session.flush()
        self.blocks.append((start, utcnow(), delay))

    def tell(self) -> None:
        session.flush()
        starts = [start for start, _, _ in self.blocks]
        for model in DATED:
            dated = [attr.key for attr in sa.inspect(model).column_attrs
                     if isinstance(attr.columns[0].type, UTCDateTime)]
            stamped = sa.or_(*(getattr(model, name) >= self.start for name in dated))
            for row in session.scalars(sa.select(model).where(stamped)):
                for name in dated:
                    value: datetime | None = getattr(row, name)
                    block = bisect_right(starts, value) - 1 if value is not None else -1
                    if block >= 0 and value <= self.blocks[block][1]:
                        setattr(row, name, value - self.blocks[block][2])
