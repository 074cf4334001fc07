"""Pruning old notifications (the CLI, the hourly job) and the capped unread count, seen
through the API and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage import settings
from maillage.cli import main
from maillage.database import session, transaction, utcnow
from maillage.events import Event
from maillage.notifications import retention
from maillage.notifications.models import Notification
from maillage.notifications.queries import UNREAD_CAP
from tests.support.api import bearer
from workers.sweeper import prune_notifications

DATA = {"actor": "Le maire", "title": "Ateliers", "town": "Lannion", "link": "/initiatives/1"}


def notify(user_id: int, *ages: tuple[int, bool]) -> list[int]:
    """Give `user_id` one notification per (age in days, read), oldest first; return their ids."""
    now = utcnow()
    ids = []
    with transaction():
        for days, read in ages:
            at = now - timedelta(days=days)
            event = Event(kind="initiative.published", payload={}, created_at=at,
                          processed_at=at)
            session.add(event)
            session.flush()
            notification = Notification(user_id=user_id, event_id=event.id, kind=event.kind,
                                        reason="town", reason_ref="22113", data=DATA,
                                        created_at=at,
                                        read_at=at + timedelta(hours=1) if read else None)
            session.add(notification)
            session.flush()
            ids.append(notification.id)
    return ids


def remaining() -> list[int]:
    session.remove()
    return list(session.scalars(sa.select(Notification.id).order_by(Notification.id)))


# (age in days, read) and whether the defaults (90 days read, 365 unread) keep it.
AGES = [((500, True), False), ((400, False), False), ((200, True), False),
        ((200, False), True), ((100, True), False), ((100, False), True),
        ((89, True), True), ((30, False), True), ((1, True), True), ((0, False), True)]


@pytest.fixture
def run(app):
    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke


def test_the_command_prunes_exactly_the_old_read_and_the_very_old_unread(
        run, client, create_user, token_for) -> None:
    member, other = create_user(), create_user()
    # In time order, as ids are: the retention looks no further than the first young one.
    mine, theirs = [], []
    for age, _kept in AGES:
        mine += notify(member.id, age)
        theirs += notify(other.id, age)
    result = run("notifications", "prune")
    assert result.exit_code == 0, result.output
    assert "8 notifications deleted" in result.output
    kept = [n for n, (_age, keep) in zip(mine, AGES, strict=True) if keep]
    assert remaining() == sorted(kept + [n for n, (_a, keep) in zip(theirs, AGES, strict=True)
                                         if keep])
    # What the member sees: the kept ones, newest last; the unread among them counted.
    headers = bearer(token_for(member))
    listed = client.get("/api/v1/notifications", headers=headers).json
    assert [item["id"] for item in listed["items"]] == kept
    assert [item["read"] for item in listed["items"]] == [False, False, True, False, True, False]
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json == \
        {"count": 4, "capped": False}
    # Run again, nothing more goes.
    assert "0 notifications deleted" in run("notifications", "prune").output
    assert len(remaining()) == 12


def test_the_command_takes_other_keepings(run, create_user) -> None:
    member = create_user()
    ids = notify(member.id, (20, True), (20, False), (5, True), (5, False))
    result = run("notifications", "prune", "--keep-read-days", "10", "--keep-unread-days", "15")
    assert result.exit_code == 0, result.output
    assert remaining() == ids[2:]
    assert run("notifications", "prune", "--keep-read-days", "0").exit_code == 2
    assert "--keep-unread-days" in run("notifications", "prune", "--help").output


def test_batches_go_past_every_id_and_stop_at_the_young_ones(app, create_user) -> None:
    member = create_user()
    ids = notify(member.id, *(age for age, _kept in AGES))
    read_before, unread_before = retention.cutoffs(app.config, utcnow())
    seen: list[int] = []
    assert retention.prune(read_before, unread_before, batch=2, progress=seen.append) == 4
    assert remaining() == [n for n, (_age, keep) in zip(ids, AGES, strict=True) if keep]
    # The ids looked at end at the first notification younger than 90 days (the 89 days one).
    assert sum(seen) == ids[6] - ids[0]
    assert retention.prune(read_before, unread_before) == 0


def test_the_hourly_job_prunes_as_the_settings_say(make_app, create_user) -> None:
    app = make_app(NOTIFICATIONS_KEEP_READ_DAYS=3, NOTIFICATIONS_KEEP_UNREAD_DAYS=6)
    with app.app_context():
        member = create_user()
        ids = notify(member.id, (7, False), (4, True), (4, False), (2, True))
        assert prune_notifications() == 2
        assert remaining() == ids[2:]


def test_keepings_are_days_above_zero() -> None:
    config = settings.load({"NOTIFICATIONS_KEEP_READ_DAYS": "30"})
    assert (config["NOTIFICATIONS_KEEP_READ_DAYS"], config["NOTIFICATIONS_KEEP_UNREAD_DAYS"]) \
        == (30, 365)
    with pytest.raises(settings.SettingsError, match="NOTIFICATIONS_KEEP_UNREAD_DAYS"):
        settings.load({"NOTIFICATIONS_KEEP_UNREAD_DAYS": "-1"})


def test_the_unread_count_stops_at_its_cap_and_says_so(client, create_user, token_for,
                                                       sign_in) -> None:
    member = create_user()
    headers = bearer(token_for(member))
    notify(member.id, *[(1, False)] * (UNREAD_CAP - 1))
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json == \
        {"count": UNREAD_CAP - 1, "capped": False}
    notify(member.id, (1, False), (1, False), (1, True))
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json == \
        {"count": UNREAD_CAP, "capped": True}
    page = sign_in(member).get("/notifications").get_data(as_text=True)
    assert f'data-notification-count="{UNREAD_CAP - 1}+">{UNREAD_CAP - 1}+</span>' in page
