"""The figures page laid out by a real browser, at a laptop's width and a phone's: no table
cell splits a word (a squeezed table wraps its headers a letter a line), the charts' words
are read at 12 px at least, and a phone scrolls the tables sideways, not the page.

The page and its stylesheet come from the test client through Playwright's routing: no server
is needed, only Debian's Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route

from maillage.figures.queries import FIGURES
from tests.support.browser import LOCALE

ORIGIN = "http://maillage.test"
# Per table cell, the words that the browser laid out on more than one line, or that stick
# out of the cell; per chart, the height of its words on the screen.
MEASURE = """() => {
  const split = [];
  for (const cell of document.querySelectorAll(".figure th, .figure td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        if (range.getClientRects().length > 1) split.push(word[0]);
      }
    }
    if (cell.scrollWidth > cell.clientWidth + 1) split.push(cell.textContent.trim());
  }
  const words = [...document.querySelectorAll("svg.chart text")]
    .filter((text) => text.textContent.trim())
    .map((text) => [text.textContent.trim(), text.getBoundingClientRect().height]);
  return {split, words, page: document.documentElement.scrollWidth - innerWidth,
          tables: document.querySelectorAll(".figure .table-scroll table").length};
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_tables_keep_words_whole_and_charts_are_readable(browser, client, named,
                                                         width) -> None:
    def answer(route: Route) -> None:
        with client.get(route.request.url.removeprefix(ORIGIN)) as response:
            route.fulfill(status=response.status_code, body=response.get_data(),
                          headers={"Content-Type": response.content_type})

    context = browser.new_context(viewport={"width": width, "height": 900}, locale=LOCALE)
    try:
        page = context.new_page()
        page.route(f"{ORIGIN}/**", answer)
        page.goto(f"{ORIGIN}/figures")
        measured = page.evaluate(MEASURE)
    finally:
        context.close()
    assert measured["tables"] == len(FIGURES)
    assert measured["split"] == []
    small = [(text, height) for text, height in measured["words"] if height < 12]
    assert measured["words"]
    assert small == []
    assert measured["page"] <= 0
