"""What the browser tests and bench/pages.py share: Debian's Chromium driven by Playwright,
axe-core injected into a page, and a page's weight (the site runs by tests/support/stack.py).

The browser is the machine's `/usr/bin/chromium` (Playwright's own download cannot be had
here); axe-core comes from npm, installed under tests/node_modules by `npm ci --prefix tests`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Playwright, Request, Response, WebSocket

CHROMIUM = Path(os.environ.get("MAILLAGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
# The site's own language: the browser tests and the page weights read the French pages.
LOCALE = "fr-FR"
AXE = Path(__file__).parents[1] / "node_modules" / "axe-core" / "axe.min.js"
# What axe checks: WCAG 2.1 A and AA, the level RGAA follows.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing of its own calling out."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/sign-in")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


class Failures:
    """The requests of a page that went wrong: those the network failed, and those answered
    with an error, the page itself or any of its resources."""

    def __init__(self, page: Page) -> None:
        self.found: list[str] = []
        page.on("requestfailed", self._failed)
        page.on("response", self._answered)

    def _failed(self, request: Request) -> None:
        self.found.append(f"{request.url}: {request.failure}")

    def _answered(self, response: Response) -> None:
        if response.status >= 400:
            self.found.append(f"{response.url}: {response.status}")

    def take(self) -> list[str]:
        """The failures since the last call."""
        found, self.found = self.found, []
        return found


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page as it is; return its violations, each with its nodes' targets.

    The page's Content-Security-Policy forbids the injected script: the context that calls
    this one is made with `bypass_csp=True`.
    """
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [node["target"] for node in v["nodes"]][:5]}
            for v in result["violations"]]


@dataclass
class Weight:
    """What loading one page cost: every request until the network was idle."""

    url: str
    bytes: int = 0
    requests: int = 0
    dom_elements: int = 0
    hosts: set[str] = field(default_factory=set)
    items: list[tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"url": self.url, "bytes": self.bytes, "requests": self.requests,
                "dom_elements": self.dom_elements, "hosts": sorted(self.hosts),
                "items": self.items}


def weigh(browser: Browser, url: str, storage_state: dict | None = None) -> Weight:
    """Load `url` in a new context (an empty cache, the cookies of `storage_state`) and count
    the requests and the bytes that came over the wire until the network was idle.

    Bytes are the response headers plus the body as sent (compressed when it was), the way a
    slow line pays for them on a first visit. The page's live connection (Socket.IO) counts.
    """
    weight = Weight(url)
    context = browser.new_context(locale=LOCALE, storage_state=storage_state)
    page = context.new_page()

    def finished(request: Request) -> None:
        sizes = request.sizes()
        size = sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)
        weight.requests += 1
        weight.bytes += size
        weight.hosts.add(urlsplit(request.url).netloc)
        weight.items.append((urlsplit(request.url).path, size))

    def failed(request: Request) -> None:
        weight.requests += 1
        weight.hosts.add(urlsplit(request.url).netloc)
        weight.items.append((urlsplit(request.url).path, 0))

    def websocket(socket: WebSocket) -> None:
        weight.requests += 1
        weight.hosts.add(urlsplit(socket.url).netloc)
        weight.items.append((urlsplit(socket.url).path + " (WebSocket)", 0))

    page.on("requestfinished", finished)
    page.on("requestfailed", failed)
    page.on("websocket", websocket)
    try:
        page.goto(url, wait_until="networkidle")
        weight.dom_elements = page.evaluate("document.getElementsByTagName('*').length")
    finally:
        context.close()
    return weight


def report(weights: list[Weight]) -> str:
    """The weights as JSON, one page per line."""
    return "\n".join(json.dumps(w.as_dict(), ensure_ascii=False) for w in weights)
