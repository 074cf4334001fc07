"""Benchmark the open data export: `GET /open-data/initiatives.csv` beside a bare COPY.

On PostgreSQL: a scratch database, migrated, with the real communes and themes, and
initiatives seeded by one `INSERT ... SELECT generate_series` (a tenth of the rows, then all
of them, so that memory can be compared at two sizes). At each size the CSV is read through
the application's WSGI stack in this process (the streamed body, chunk by chunk), then the
same rows are read by psycopg's `COPY (SELECT ...) TO STDOUT` of the same columns, each
timed, then run again under tracemalloc for the peak of Python memory the read allocated;
the process's peak RSS (getrusage) is reported after each. Prints JSON.

    .venv/bin/python bench/opendata.py                     # 100,000 initiatives
    .venv/bin/python bench/opendata.py --initiatives 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.themes.operations import load_themes
from maillage.towns.operations import import_communes

SERVER = "postgresql://127.0.0.1/postgres"

# The seed: towns and themes drawn round-robin from the real lists, a summary, two partners
# and a link each, one or two themes; `first` and `last` bound the ids made by one call.
SEED_INITIATIVES = """
WITH towns AS (SELECT array_agg(insee ORDER BY insee) AS codes FROM towns)
INSERT INTO initiatives (id, town_insee, title, summary, body, body_html, status, started_on,
                         budget_eur, partners, links, created_at, updated_at)
SELECT g, codes[1 + (g * 7919) %% cardinality(codes)],
       'Initiative numérique n° ' || g, 'Ce que la commune a fait, numéro ' || g || '.',
       'Le corps de l''initiative.', '<p>Le corps de l''initiative.</p>',
       (ARRAY['idea', 'in_progress', 'done'])[1 + g %% 3],
       CASE WHEN g %% 4 = 0 THEN NULL ELSE DATE '2020-01-01' + (g %% 2000) END,
       CASE WHEN g %% 5 = 0 THEN NULL ELSE (g %% 97) * 1000 END,
       '["La communauté de communes", "Le syndicat; département \\"numérique\\""]',
       json_build_array('https://example.org/initiatives/' || g),
       now() - make_interval(mins => %(last)s - g), now() - make_interval(mins => %(last)s - g)
FROM towns, generate_series(%(first)s::int, %(last)s::int) AS g
"""
SEED_THEMES = """
WITH themes AS (SELECT array_agg(id ORDER BY id) AS ids FROM themes)
INSERT INTO initiative_themes (initiative_id, theme_id)
SELECT DISTINCT g, ids[1 + (g + k * 5) %% cardinality(ids)]
FROM themes, generate_series(%(first)s::int, %(last)s::int) AS g, generate_series(0, g %% 2) AS k
"""
# The bare baseline: the same rows and columns, written as CSV by PostgreSQL itself.
COPY = """
COPY (SELECT i.id, i.title, i.town_insee, t.name, t.department_code, d.name,
             (SELECT string_agg(th.slug, ';' ORDER BY th.slug) FROM initiative_themes it
              JOIN themes th ON th.id = it.theme_id WHERE it.initiative_id = i.id),
             i.status, i.started_on, i.budget_eur, i.partners, i.links, i.created_at,
             i.updated_at, 'http://localhost/initiatives/' || i.id
      FROM initiatives i JOIN towns t ON t.insee = i.town_insee
      JOIN departments d ON d.code = t.department_code
      WHERE i.hidden_at IS NULL ORDER BY i.id) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=SERVER,
                        help="PostgreSQL server where a scratch database is made and dropped "
                             "(default: %(default)s)")
    parser.add_argument("--initiatives", type=int, default=100_000,
                        help="initiatives at the second size; the first is a tenth "
                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    with scratch_database(args.server) as url:
        print(json.dumps(run(url, args.initiatives), indent=2))
    return 0


def run(url: str, total: int) -> dict[str, Any]:
    results: dict[str, Any] = {"initiatives": total, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as instance:
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": Path(instance),
                          "MAIL_DIR": Path(instance) / "mail", "SECRET_KEY": "bench",
                          "REDIS_URL": None, "RATELIMIT_ENABLED": False})
        with app.app_context(), transaction():
            import_communes()
            load_themes()
        client = app.test_client()
        seeded = 0
        for size in (total // 10, total):
            started = time.perf_counter()
            seed(url, seeded + 1, size)
            seeded = size
            row: dict[str, Any] = {"initiatives": size,
                                   "seed_s": round(time.perf_counter() - started, 1)}
            row["app_csv"] = measure(lambda: _read_app(client), size)
            row["bare_copy"] = measure(lambda: _read_copy(url), size)
            row["app_over_copy_time"] = round(row["app_csv"]["seconds"]
                                              / row["bare_copy"]["seconds"], 1)
            results["sizes"].append(row)
        with app.app_context():
            session.remove()
        app.extensions["maillage.engine"].dispose()
    return results


def seed(url: str, first: int, last: int) -> None:
    """Insert initiatives `first` to `last` and their themes, in one transaction."""
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute(SEED_INITIATIVES, {"first": first, "last": last})
        connection.execute(SEED_THEMES, {"first": first, "last": last})
        connection.execute("SELECT setval('initiatives_id_seq', %s)", (last,))
        connection.execute("ANALYZE initiatives")
        connection.execute("ANALYZE initiative_themes")


def _libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _read_app(client: Any) -> int:
    """Read the streamed CSV chunk by chunk, as a client would; return its bytes."""
    response = client.get("/open-data/initiatives.csv", buffered=False)
    assert response.status_code == 200, response.status_code
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    return size


def _read_copy(url: str) -> int:
    size = 0
    with psycopg.connect(_libpq(url)) as connection, connection.cursor() as cursor, \
            cursor.copy(COPY) as copy:
        for chunk in copy:
            size += len(chunk)
    return size


def measure(read: Callable[[], int], rows: int) -> dict[str, Any]:
    """Time one read, then run it again under tracemalloc for its peak of Python memory."""
    started = time.perf_counter()
    size = read()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    read()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": round(seconds, 2), "mb": round(size / 1e6, 1),
            "rows_per_s": round(rows / seconds), "peak_traced_mb": round(peak / 1e6, 2),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3)}


if __name__ == "__main__":
    raise SystemExit(main())
