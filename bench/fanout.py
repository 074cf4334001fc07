"""Fan-out of one event to many followers, beside a bare INSERT ... SELECT of the same rows.

Measures, on PostgreSQL and Redis, for 100,000 and 1,000,000 followers of a theme (seeded
by PostgreSQL itself, in seconds):
- persisted: from the start of the job to the commit of the notifications;
- live: until the last Socket.IO message has been handed to Redis, with `--online` of the
  followers marked connected in the presence register (messages go to connected people only);
- baseline: a bare `INSERT INTO notifications ... SELECT` of the same rows, same database.
With `--explain`, the plans of the fan-out's INSERT and of the delivery's query, as run.
Prints JSON. Run: `.venv/bin/python bench/fanout.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_postgres_option, explained, scratch_database, summary
from maillage import realtime
from maillage.accounts.models import User
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.events import record
from maillage.initiatives.events import InitiativePublished
from maillage.initiatives.models import Initiative, Status
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.operations import import_communes
from workers.events import process_event

THEME = "sobriete-numerique"


def add_followers(count: int) -> None:
    """`count` more members following the theme, written by PostgreSQL itself
    (generate_series): a million rows built in Python would take longer than the fan-out."""
    with transaction():
        start = session.scalar(sa.select(sa.func.coalesce(sa.func.max(User.id), 0)))
        session.execute(sa.text(
            "INSERT INTO users (email, display_name, is_admin, is_moderator, locale,"
            " created_at, session_secret)"
            " SELECT 'f' || n || '@bench.test', 'F ' || n, false, false, 'fr', now(),"
            " md5(random()::text || n)"
            " FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n"),
            {"first": start + 1, "last": start + count})
        theme_id = session.scalar(sa.select(Theme.id).where(Theme.slug == THEME))
        session.execute(sa.text(
            "INSERT INTO follows (user_id, target, theme_id, created_at)"
            " SELECT id, 'theme', :theme, now() FROM users WHERE id > :start"),
            {"theme": theme_id, "start": start})
    with transaction():
        session.execute(sa.text("ANALYZE users; ANALYZE follows"))


def new_event(author_id: int) -> int:
    with transaction():
        initiative = Initiative(town_insee="22113", author_id=author_id, title="Bench",
                                summary="s", body="b", body_html="<p>b</p>",
                                status=Status.IDEA,
                                themes=[session.scalar(sa.select(Theme)
                                                       .where(Theme.slug == THEME))])
        session.add(initiative)
        session.flush()
        event = record(InitiativePublished(initiative_id=initiative.id, town_insee="22113",
                                           themes=[THEME], title="Bench"), actor_id=author_id)
        session.flush()
        return event.id


def bare_insert(event_id: int) -> float:
    """The baseline: the same rows, inserted by one plain INSERT ... SELECT."""
    started = time.perf_counter()
    with transaction():
        theme_id = session.scalar(sa.select(Theme.id).where(Theme.slug == THEME))
        session.execute(sa.text(
            "INSERT INTO notifications (user_id, event_id, kind, reason, reason_ref, data,"
            " created_at) SELECT user_id, :event, 'bench', 'theme', :slug, '{}', now()"
            " FROM follows WHERE theme_id = :theme"), {"event": event_id, "slug": THEME,
                                                      "theme": theme_id})
    return time.perf_counter() - started


def run(size: int, author_id: int, repeats: int) -> dict[str, object]:
    persisted, live, baseline = [], [], []
    for _ in range(repeats):
        outcome = process_event(new_event(author_id))
        assert outcome.notified == size, (outcome, size)
        persisted.append(outcome.persisted_seconds)
        live.append(outcome.delivered_seconds)
        baseline.append(bare_insert(new_event(author_id)))
    ratio = statistics.median(persisted) / statistics.median(baseline)
    return {"followers": size, "persisted": summary(persisted),
            "last_live_message": summary(live), "baseline_insert_select": summary(baseline),
            "persisted_over_baseline": round(ratio, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_option(parser)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9",
                        help="the Redis of the Socket.IO message queue")
    parser.add_argument("--sizes", default="100000,1000000", help="follower counts")
    parser.add_argument("--repeats", type=int, default=5, help="runs per size")
    parser.add_argument("--online", type=int, default=1000,
                        help="followers marked as having a socket open")
    parser.add_argument("--explain", action="store_true",
                        help="one more run at the largest size, printing the plans "
                        "(EXPLAIN ANALYZE, BUFFERS) of the fan-out and of the live delivery")
    args = parser.parse_args()
    plans: list[dict[str, str]] = []
    results = []
    with scratch_database(args.postgres) as url:
        app = create_app({"DATABASE_URL": url, "REDIS_URL": args.redis, "SECRET_KEY": "bench"})
        with app.app_context():
            with transaction():
                import_communes()
                load_themes()
                author = User(email="author@bench.test", display_name="Author")
                session.add(author)
                session.flush()
                author_id = author.id
            have = 0
            presence = realtime.presence()
            for size in sorted(int(s) for s in args.sizes.split(",")):
                add_followers(size - have)
                have = size
                for user_id in range(author_id + 1, author_id + 1 + args.online):
                    presence.arrived(user_id)
                results.append(run(size, author_id, args.repeats))
                if args.explain and size == max(int(s) for s in args.sizes.split(",")):
                    with explained(app.extensions["maillage.engine"],
                                   r"^INSERT INTO notifications|FROM unnest") as plans:
                        process_event(new_event(author_id))
                for user_id in range(author_id + 1, author_id + 1 + args.online):
                    presence.left(user_id)
        app.extensions["maillage.engine"].dispose()
    print(json.dumps({"benchmark": "fanout", "machine": platform.node(),
                      "cores": os.cpu_count(), "python": platform.python_version(),
                      "online": args.online, "repeats": args.repeats, "results": results,
                      "plans": plans},
                     indent=2))


if __name__ == "__main__":
    main()
