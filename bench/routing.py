"""Routing of one help request to its referents, for 2,000 and 20,000 referents.

Measures, on PostgreSQL, with the real communes and referents spread over the real towns of
2,500 to 25,000 inhabitants (one verified membership each, expertise in the request's theme):
- route: `ask_for_help`, which picks the nearest circle holding referents;
- notify: the event's processing (`workers.events.process_event`), which inserts the
  notifications of the routed referents in one INSERT ... SELECT;
- escalate: `escalate_unanswered` once the delay has passed, widening it to the next circle.
For each, the SQL statements run (counted on the engine) and the time: the counts must not
grow with the number of referents. Prints JSON. Run: `.venv/bin/python bench/routing.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_postgres_option, scratch_database, summary
from maillage.accounts.models import Role, TownMembership, User, user_expertise
from maillage.app import create_app
from maillage.database import session, transaction, utcnow
from maillage.events import Event
from maillage.help.operations import ask_for_help, escalate_unanswered
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.models import Town
from maillage.towns.operations import import_communes
from workers.events import process_event

THEME = "cybersecurite"
LANNION = "22113"


class StatementCounter:
    """Counts the SQL statements an engine runs while it is on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def add_referents(count: int, seed: int) -> None:
    """Add `count` referents of THEME, each a verified member of a random small town."""
    now = utcnow()
    with transaction():
        towns = list(session.scalars(sa.select(Town.insee).where(
            Town.population.between(2_500, 25_000), Town.insee != LANNION)))
        start = session.scalar(sa.select(sa.func.max(User.id))) or 0
        session.execute(sa.insert(User), [
            {"email": f"r{start + n}@bench.test", "display_name": f"R {start + n}",
             "is_admin": False, "is_moderator": False, "locale": "fr", "created_at": now}
            for n in range(1, count + 1)])
        chooser = random.Random(seed)
        session.execute(sa.insert(TownMembership), [
            {"user_id": start + n, "town_insee": chooser.choice(towns),
             "role": Role.REFERENT, "created_at": now, "verified_at": now}
            for n in range(1, count + 1)])
        theme_id = session.scalar(sa.select(Theme.id).where(Theme.slug == THEME))
        session.execute(user_expertise.insert(), [
            {"user_id": start + n, "theme_id": theme_id} for n in range(1, count + 1)])


def measured(counter: StatementCounter, work: Callable[[], Any]) -> tuple[Any, int, float]:
    before, started = counter.count, time.perf_counter()
    result = work()
    return result, counter.count - before, time.perf_counter() - started


def one_request(counter: StatementCounter, asker_id: int, delay: timedelta) -> dict[str, Any]:
    def route() -> int:
        with transaction():
            return ask_for_help(session.get(User, asker_id), town=LANNION,
                                title="Sécuriser les messageries", body="Comment ?",
                                themes=[THEME]).id

    request_id, route_statements, route_seconds = measured(counter, route)
    with transaction():
        event_id = session.scalar(sa.select(Event.id).where(Event.kind == "help.requested")
                                  .order_by(Event.id.desc()).limit(1))
    outcome, notify_statements, notify_seconds = measured(
        counter, lambda: process_event(event_id))

    def escalate() -> list[int]:
        with transaction():
            return escalate_unanswered(utcnow() + delay, delay)

    escalated, escalate_statements, escalate_seconds = measured(counter, escalate)
    assert escalated == [request_id], escalated
    return {"route": (route_statements, route_seconds),
            "notify": (notify_statements, notify_seconds, outcome.notified),
            "escalate": (escalate_statements, escalate_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_option(parser)
    parser.add_argument("--sizes", default="2000,20000", help="referent counts")
    parser.add_argument("--repeats", type=int, default=5, help="requests per size")
    args = parser.parse_args()
    results = []
    with scratch_database(args.postgres) as url:
        app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SECRET_KEY": "bench",
                          "SWEEP_INTERVAL": None})
        # Events are processed here, by the measured call, not by the embedded thread.
        app.extensions["maillage.queues"].enqueue = lambda *_args, **_kwargs: True
        with app.app_context():
            with transaction():
                import_communes()
                load_themes()
            counter = StatementCounter(app.extensions["maillage.engine"])
            with transaction():
                asker = User(email="asker@bench.test", display_name="Asker")
                session.add(asker)
                session.flush()
                session.add(TownMembership(user_id=asker.id, town_insee=LANNION,
                                           role=Role.AGENT, verified_at=utcnow()))
                asker_id = asker.id
            have = 0
            for size in sorted(int(s) for s in args.sizes.split(",")):
                add_referents(size - have, seed=size)
                have = size
                runs = [one_request(counter, asker_id, app.config["HELP_ESCALATION_DELAY"])
                        for _ in range(args.repeats)]
                results.append({
                    "referents": size,
                    "route": {"statements": sorted({r["route"][0] for r in runs}),
                              **summary([r["route"][1] for r in runs])},
                    "notify": {"statements": sorted({r["notify"][0] for r in runs}),
                               "notified": sorted({r["notify"][2] for r in runs}),
                               **summary([r["notify"][1] for r in runs])},
                    "escalate": {"statements": sorted({r["escalate"][0] for r in runs}),
                                 **summary([r["escalate"][1] for r in runs])},
                })
        app.extensions["maillage.engine"].dispose()
    print(json.dumps({"benchmark": "routing", "machine": platform.node(),
                      "cores": os.cpu_count(), "python": platform.python_version(),
                      "repeats": args.repeats, "results": results}, indent=2))


if __name__ == "__main__":
    main()
