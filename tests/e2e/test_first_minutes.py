"""A new user's first minutes, in Chromium: the commands of `make run` on an empty database
(`db upgrade`, `import-communes`, `demo`, `serve`), then the pages a visitor opens first at a
laptop's and a phone's width.

Each page is photographed under tests/artefacts/ (a run's pictures, not committed), and each
must read: no table cell so narrow that a word breaks inside (the letter-per-line wrapping of
a squeezed table), no table cut at a laptop's width, themes shown by their names and never
their slugs, every request of the page answered.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.support.browser import LOCALE, Failures
from tests.support.databases import Databases
from tests.support.net import free_port, wait_for

BIN = Path(sys.executable).parent
ARTEFACTS = Path(__file__).parents[1] / "artefacts" / "first-minutes"
WIDTHS = {"laptop": 1280, "phone": 375}
# The words a line break cut in two: each word (between spaces or hyphens) of each cell's
# text, measured where it was laid out; a word drawn on two lines has two boxes.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("td, th")) {
    if (!cell.getClientRects().length) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      for (const word of text.data.matchAll(/[^\\s\\-\\u2010\\u2011]+/g)) {
        const range = document.createRange();
        range.setStart(text, word.index);
        range.setEnd(text, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((box) => Math.round(box.top)));
        if (lines.size > 1) broken.push(cell.tagName.toLowerCase() + ": " + word[0]);
      }
    }
  }
  return broken.slice(0, 10);
}"""
# The tables a laptop's screen cuts: a box scrolling sideways where there is room.
CUT_TABLES = """() => [...document.querySelectorAll(".table-scroll")]
  .filter((box) => box.scrollWidth > box.clientWidth + 1)
  .map((box) => box.querySelector("caption, table")?.textContent.trim().slice(0, 40))"""
# What a reader sees: the page's text, and the SVG charts' labels and tooltips.
SHOWN_TEXT = """() => [document.body.innerText,
  ...[...document.querySelectorAll("svg text, svg title")].map((e) => e.textContent)]
  .join("\\n")"""


@pytest.fixture(scope="module")
def demo_site(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Maillage as `make run` starts it (the embedded mode: no Redis), on a database of its
    own; yields its URL."""
    instance = tmp_path_factory.mktemp("first-minutes")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("REDIS_", "SMTP_", "STORAGE_"))}
    environment |= {"DATABASE_URL": databases.create(), "MAILLAGE_INSTANCE": str(instance),
                    "SECRET_KEY": "first-minutes-test"}
    for command in (["db", "upgrade"], ["import-communes"], ["demo"]):
        done = subprocess.run([str(BIN / "maillage"), *command], env=environment,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
    port = free_port()
    with open(instance / "serve.log", "wb") as log:
        server = subprocess.Popen([str(BIN / "maillage"), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=environment, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/themes")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _first_pages(site: str) -> dict[str, str]:
    """The pages a visitor opens first, the demo's first initiative and help request among
    them."""
    [initiative, *_] = requests.get(f"{site}/api/v1/initiatives", timeout=10).json()["items"]
    [asked, *_] = requests.get(f"{site}/api/v1/help-requests", timeout=10).json()["items"]
    return {"home": "/", "figures": "/figures", "map": "/map",
            "initiative": f"/initiatives/{initiative['id']}",
            "help-request": f"/help-requests/{asked['id']}"}


@pytest.mark.parametrize("device", WIDTHS)
def test_the_first_pages_read_at_a_laptops_and_a_phones_width(demo_site: str, browser: Browser,
                                                              device: str) -> None:
    themes = requests.get(f"{demo_site}/api/v1/themes", timeout=10).json()
    slugs = {theme["slug"] for theme in themes if "-" in theme["slug"]}
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=LOCALE,
                                  viewport={"width": WIDTHS[device], "height": 900})
    page: Page = context.new_page()
    failures = Failures(page)
    found: dict[str, object] = {}
    try:
        for name, path in _first_pages(demo_site).items():
            page.goto(f"{demo_site}{path}", wait_until="networkidle")
            page.screenshot(path=ARTEFACTS / f"{name}-{WIDTHS[device]}.png", full_page=True)
            problems = {}
            if broken := page.evaluate(BROKEN_WORDS):
                problems["words broken across lines"] = broken
            if device == "laptop" and (cut := page.evaluate(CUT_TABLES)):
                problems["tables cut at a laptop's width"] = cut
            shown = page.evaluate(SHOWN_TEXT)
            if slugs_shown := sorted(slug for slug in slugs if slug in shown):
                problems["theme slugs shown"] = slugs_shown
            if failed := failures.take():
                problems["requests failed"] = failed
            if problems:
                found[name] = problems
    finally:
        context.close()
    assert found == {}


def test_the_home_page_shows_the_demos_activity(demo_site: str, browser: Browser) -> None:
    context = browser.new_context(locale=LOCALE)
    page = context.new_page()
    try:
        page.goto(demo_site)
        links = page.eval_on_selector_all("main a[href]", "(links) => links.map((a) =>"
                                                          " a.getAttribute('href'))")
        initiatives = {link for link in links if re.fullmatch(r"/initiatives/\d+", link)}
        asked = {link for link in links if re.fullmatch(r"/help-requests/\d+", link)}
    finally:
        context.close()
    assert len(initiatives) >= 5
    assert len(asked) >= 1
