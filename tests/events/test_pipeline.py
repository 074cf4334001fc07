"""The event pipeline in the embedded mode: outbox, the worker thread, notifications, the API.

The same job functions run on RQ in the services mode (tests/e2e/test_pipeline_services.py).
"""

from __future__ import annotations

import html
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from maillage.accounts.events import MemberVerified
from maillage.accounts.models import Role, User
from maillage.database import session, transaction, utcnow
from maillage.events import Event
from maillage.initiatives.models import Initiative
from maillage.notifications.models import Notification
from tests.support.api import bearer
from workers.events import process_event
from workers.sweeper import sweep_outbox

LANNION, LANDERNEAU = "22113", "29103"
NEW = {"town": LANNION, "title": "Un portail citoyen mutualisé",
       "summary": "Démarches en ligne pour les habitants.", "body": "Détails.",
       "themes": ["services-publics-en-ligne", "inclusion-numerique"]}




@pytest.fixture
def people(create_user, token_for):
    """An author in Lannion and followers of its themes, its town, both, and nothing."""
    author = create_user("author@lannion.fr", town=LANNION, role=Role.AGENT, verified=True)
    theme = create_user("theme@example.org")
    town = create_user("town@example.org")
    both = create_user("both@example.org")
    nobody = create_user("nobody@example.org")
    for user, paths in ((theme, ["theme/services-publics-en-ligne"]),
                        (town, [f"town/{LANNION}"]),
                        (both, ["theme/inclusion-numerique", f"town/{LANNION}",
                                "theme/services-publics-en-ligne"]),
                        (author, [f"town/{LANNION}", "theme/inclusion-numerique"])):
        for path in paths:
            assert user.id
            from flask import current_app

            with current_app.test_client() as own:
                assert own.put(f"/api/v1/follows/{path}",
                               headers=bearer(token_for(user))).status_code == 200
    return {"author": author, "theme": theme, "town": town, "both": both, "nobody": nobody,
            "token": token_for(author)}


def notifications(kinds: str = "initiative.%") -> dict[str, list[tuple[str, str, str]]]:
    """Return the notifications of `kinds` by the local part of their reader's address."""
    rows = session.execute(sa.select(User.email, Notification.kind, Notification.reason,
                                     Notification.reason_ref)
                           .join(User, User.id == Notification.user_id)
                           .where(Notification.kind.like(kinds))
                           .order_by(Notification.id)).all()
    found: dict[str, list[tuple[str, str, str]]] = {}
    for email, kind, reason, ref in rows:
        found.setdefault(email.split("@")[0], []).append((kind, reason, ref))
    return found


def test_a_new_initiative_reaches_each_follower_once_never_the_actor(client, people,
                                                                     wait) -> None:
    response = client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    assert response.status_code == 201
    wait()
    assert notifications() == {
        "theme": [("initiative.published", "theme", "services-publics-en-ligne")],
        "town": [("initiative.published", "town", LANNION)],
        "both": [("initiative.published", "town", LANNION)],
    }
    event = session.scalar(sa.select(Event).where(Event.kind == "initiative.published"))
    assert event.processed_at is not None


def test_the_api_says_what_happened_and_why(client, people, wait, token_for) -> None:
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    reader = bearer(token_for(people["theme"]))
    listed = client.get("/api/v1/notifications", headers=reader).json
    [item] = listed["items"]
    assert item["text"] == \
        "Author a publié l'initiative « Un portail citoyen mutualisé » (Lannion)"
    assert item["reason_text"] == "vous suivez le thème Services publics en ligne"
    assert item["link"].startswith("/initiatives/")
    assert listed["last_id"] == item["id"]
    assert client.get(f"/api/v1/notifications?after={item['id']}",
                      headers=reader).json["items"] == []
    assert client.get("/api/v1/notifications/unread-count", headers=reader).json == \
        {"count": 1, "capped": False}
    marked = client.post("/api/v1/notifications/read", json={"up_to": item["id"]},
                         headers=reader)
    assert marked.json == {"count": 1}
    assert client.get("/api/v1/notifications/unread-count", headers=reader).json == \
        {"count": 0, "capped": False}
    bad = client.post("/api/v1/notifications/read", json={}, headers=reader)
    assert bad.status_code == 422


def test_an_english_reader_reads_english(client, people, wait, token_for) -> None:
    with transaction():
        session.get(User, people["town"].id).locale = "en"
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    [item] = client.get("/api/v1/notifications",
                        headers=bearer(token_for(people["town"]))).json["items"]
    assert item["text"] == \
        "Author published the initiative “Un portail citoyen mutualisé” (Lannion)"
    assert item["reason_text"] == "you follow the town Lannion"


def test_others_do_not_see_ones_notifications(client, people, wait, token_for) -> None:
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    nobody = bearer(token_for(people["nobody"]))
    assert client.get("/api/v1/notifications", headers=nobody).json["items"] == []
    theirs = session.scalar(sa.select(Notification.id))
    assert client.post("/api/v1/notifications/read", json={"ids": [theirs]},
                       headers=nobody).json == {"count": 0}
    assert session.get(Notification, theirs).read_at is None
    assert client.get("/api/v1/notifications").status_code == 401


def test_processing_an_event_twice_changes_nothing(client, people, wait) -> None:
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    before = notifications()
    assert process_event(event_id).notified == 0
    with transaction():
        session.get(Event, event_id).processed_at = None
    assert process_event(event_id).notified == 0
    with transaction():
        session.execute(sa.delete(Notification).where(Notification.event_id == event_id))
        session.get(Event, event_id).processed_at = None
    assert process_event(event_id).notified == 3
    session.remove()
    assert notifications() == before


def test_hidden_content_notifies_nobody(client, people, wait) -> None:
    response = client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    initiative_id = response.json["id"]
    with transaction():
        session.get(Initiative, initiative_id).hidden_at = utcnow()
    comment = client.post(f"/api/v1/initiatives/{initiative_id}/comments",
                          json={"body": "Bravo"}, headers=bearer(people["token"]))
    assert comment.status_code == 404
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    with transaction():
        session.execute(sa.delete(Notification))
        session.get(Event, event_id).processed_at = None
    assert process_event(event_id).notified == 0
    assert notifications() == {}


def test_followers_of_an_initiative_hear_of_its_changes(client, people, wait,
                                                        token_for) -> None:
    initiative_id = client.post("/api/v1/initiatives", json=NEW,
                                headers=bearer(people["token"])).json["id"]
    watcher = people["nobody"]
    client.put(f"/api/v1/follows/initiative/{initiative_id}",
               headers=bearer(token_for(watcher)))
    commenter = bearer(token_for(people["theme"]))
    client.post(f"/api/v1/initiatives/{initiative_id}/comments", json={"body": "Comment ?"},
                headers=commenter)
    client.patch(f"/api/v1/initiatives/{initiative_id}", json={"status": "done"},
                 headers=bearer(people["token"]))
    wait()
    found = notifications()
    assert ("initiative.commented", "author", "") in found["author"]
    assert ("initiative.commented", "initiative", str(initiative_id)) in found["nobody"]
    assert ("initiative.commented", "initiative", str(initiative_id)) not in \
        found.get("theme", [])[1:]
    assert ("initiative.status_changed", "initiative", str(initiative_id)) in found["theme"]
    assert not any(kind == "initiative.status_changed" for kind, *_ in found["author"])


def test_a_verified_member_is_told(client, create_user, token_for, wait) -> None:
    newcomer = create_user("new@lannion.fr", town=LANNION)
    peer = create_user(town=LANNION, verified=True)
    membership_id = newcomer.memberships[0].id
    client.post(f"/api/v1/memberships/{membership_id}/verify",
                headers=bearer(token_for(peer)))
    wait()
    assert notifications("member.%")["new"] == [("member.verified", "member", "")]


def test_an_event_left_behind_is_swept_up(app, client, people, wait) -> None:
    from datetime import timedelta

    from workers.sweeper import sweep_outbox

    queues = app.extensions["maillage.queues"]
    held: list[int] = []
    real = queues.enqueue
    queues.enqueue = lambda name, func, *args, job_id: held.append(args[0]) or False
    try:
        client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    finally:
        queues.enqueue = real
    wait()
    assert held
    assert notifications() == {}
    assert sweep_outbox(grace=timedelta(hours=1)) == 0
    assert sweep_outbox(grace=timedelta(0)) == len(held)
    wait()
    assert set(notifications()) == {"theme", "town", "both"}
    assert sweep_outbox(grace=timedelta(0)) == 0


def test_an_event_swept_ten_times_while_the_worker_thread_is_busy_is_queued_once(
        app, client, people, wait) -> None:
    queues = app.extensions["maillage.queues"]
    busy = threading.Event()
    queues.enqueue("events", lambda: busy.wait(30), job_id="busy")
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    session.remove()
    for _ in range(10):
        sweep_outbox(grace=timedelta(0))
    with queues.condition:
        queued = [job.job_id for job in queues.ready]
    busy.set()
    wait()
    assert queued.count(f"event-{event_id}") == 1
    assert len(queued) == len(set(queued))
    assert set(notifications()) == {"theme", "town", "both"}
    assert session.get(Event, event_id).tries == 1


def test_a_poison_event_fails_for_good_in_the_embedded_mode_too(app, client, people,
                                                                wait) -> None:
    app.config["EVENT_MAX_TRIES"] = 2
    queues = app.extensions["maillage.queues"]
    busy = threading.Event()
    queues.enqueue("events", lambda: busy.wait(30), job_id="busy")
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    # As an event recorded by a later version, with a field this one does not know.
    with transaction():
        event = session.scalar(sa.select(Event).where(Event.kind == "initiative.published"))
        event_id, event.payload = event.id, {**event.payload, "town": LANNION}
    busy.set()
    wait()
    event = session.get(Event, event_id)
    assert (event.tries, event.processed_at) == (2, None)
    assert event.failed_at is not None
    assert "TypeError" in event.last_error
    assert notifications() == {}


def test_live_delivery_in_the_embedded_mode(app, client, people, wait, token_for) -> None:
    from maillage.realtime import socketio

    follower = socketio.test_client(app, auth={"token": token_for(people["theme"])})
    bystander = socketio.test_client(app, auth={"token": token_for(people["nobody"])})
    public = socketio.test_client(app)
    joined = public.emit("subscribe", {"rooms": ["theme:services-publics-en-ligne"]},
                         callback=True)
    assert joined == {"rooms": ["theme:services-publics-en-ligne"]}
    response = client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    [message] = follower.get_received()
    notification_id = session.scalar(sa.select(Notification.id).where(
        Notification.user_id == people["theme"].id))
    assert (message["name"], message["args"]) == ("notification", [{"id": notification_id}])
    [activity] = public.get_received()
    assert activity["name"] == "activity"
    assert activity["args"][0]["initiative_id"] == response.json["id"]
    assert bystander.get_received() == []
    # The same event processed again, by a retry or a second worker: no second message.
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    assert process_event(event_id).notified == 0
    assert follower.get_received() == []
    assert public.get_received() == []
    for connection in (follower, bystander, public):
        connection.disconnect()


def test_the_badge_and_the_notifications_page(client, people, wait, sign_in, csrf) -> None:
    client.post("/api/v1/initiatives", json=NEW, headers=bearer(people["token"]))
    wait()
    sign_in(people["both"])
    page = client.get("/initiatives").get_data(as_text=True)
    assert 'data-notification-count="1"' in page
    assert "data-live" in page
    assert "/static/live.js" in page
    listing = html.unescape(client.get("/notifications").get_data(as_text=True))
    assert "a publié l'initiative « Un portail citoyen mutualisé »" in listing
    assert "Parce que vous suivez la commune Lannion." in listing
    newest = session.scalar(sa.select(Notification.id).where(
        Notification.user_id == people["both"].id))
    assert client.post("/notifications/read", data={"up_to": str(newest)}).status_code == 400
    response = client.post("/notifications/read",
                           data={"up_to": str(newest), "csrf_token": csrf()})
    assert response.status_code == 303
    assert 'data-notification-count="0"' in client.get("/notifications").get_data(as_text=True)


def test_signed_out_pages_load_no_script(client) -> None:
    page = client.get("/towns").get_data(as_text=True)
    assert "<script" not in page
    assert "data-live" not in page


def test_events_wait_for_the_end_of_the_transaction(app) -> None:
    """A savepoint released inside a transaction (as a follow does) dispatches nothing."""
    from maillage import events

    dispatched: list[list[int]] = []
    queues = app.extensions["maillage.queues"]
    real = queues.enqueue
    queues.enqueue = lambda name, func, *args, job_id: dispatched.append(list(args)) or True
    try:
        with transaction():
            first = events.record(MemberVerified(
                membership_id=1, user_id=1, town_insee=LANNION, source="admin"), actor_id=None)
            with session.begin_nested():
                session.flush()
            assert dispatched == []
            with pytest.raises(ValueError, match="lost race"), session.begin_nested():
                raise ValueError("lost race")
            session.flush()
            first_id = first.id
        assert dispatched == [[first_id]]
    finally:
        queues.enqueue = real
