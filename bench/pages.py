"""What the home, list and initiative pages cost a first visit, measured in Debian's Chromium.

A scratch PostgreSQL database gets the real communes and the demo network (`maillage demo`);
Maillage is served as in production (gunicorn with gevent, a worker, Redis), and each page is
loaded in a new browser context (an empty cache), signed out and then signed in as the demo
mayor, until the network is idle. For each: the bytes that came over the wire (headers and
bodies as sent), the number of requests (the live connection's included) and the number of
elements in the DOM. Prints one JSON document. Run: `.venv/bin/python bench/pages.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from tests.support.browser import LOCALE, launch, sign_in, weigh
from tests.support.stack import running_stack

PAGES = {"home": "/", "list": "/initiatives", "initiative": "/initiatives/1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    with (scratch_database(args.postgres) as url, tempfile.TemporaryDirectory() as instance,
          running_stack(url, args.redis, Path(instance), secret_key="front-test",
                        channel=f"maillage-front-{os.getpid()}") as stack,
          sync_playwright() as playwright):
        site = stack.url
        subprocess.run([str(Path(sys.executable).parent / "maillage"), "demo"], check=True,
                       env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
        browser = launch(playwright)
        mayor = browser.new_context(locale=LOCALE)
        sign_in(mayor.new_page(), site, _demo_mayor(url), "maillage-demo")
        cookies = mayor.storage_state()
        results = {}
        for state, storage in (("signed out", None), ("signed in", cookies)):
            results[state] = {}
            for name, path in PAGES.items():
                weight = weigh(browser, f"{site}{path}", storage).as_dict()
                weight.pop("url")
                results[state][name] = weight
        browser.close()
    print(json.dumps(results, indent=2, ensure_ascii=False))


def _demo_mayor(url: str) -> str:
    """The demo mayor's address (it names their town, the demo's first)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        return connection.scalar(sa.text(
            "SELECT email FROM users WHERE email LIKE 'maire@%' ORDER BY id LIMIT 1"))


if __name__ == "__main__":
    main()
