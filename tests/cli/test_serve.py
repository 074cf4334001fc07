"""`maillage serve` as a real process: gunicorn's gevent worker, WebSocket, the embedded jobs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage.accounts.models import Role
from maillage.cli import main
from tests.support.net import free_port, wait_for

LANNION = "22113"
DEVELOPMENT_SERVER = ("development server", "Werkzeug appears", "allow_unsafe_werkzeug")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`maillage serve` on a free port, in the embedded mode (no Redis) on the test database;
    yields its URL and its instance folder. It must stop cleanly when told to (SIGTERM)."""
    port = free_port()
    instance = tmp_path / "served"
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "SMTP_URL", "MAILLAGE_ENV", "MAILLAGE_MAIL_DIR"}}
    env |= {"DATABASE_URL": database_url, "MAILLAGE_INSTANCE": str(instance),
            "SECRET_KEY": "test-secret", "LOG_FORMAT": "text"}
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as errors:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "maillage"), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/themes")
        yield f"http://127.0.0.1:{port}", instance
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = stderr.read_text(encoding="utf-8")
    assert "Using worker: gevent" in log
    for sign in (*DEVELOPMENT_SERVER, "Traceback", "MonkeyPatchWarning"):
        assert sign not in log, log


def test_serve_runs_gunicorn_with_websocket_and_the_embedded_jobs(served, create_user,
                                                                   token_for) -> None:
    url, instance = served
    home = requests.get(url, timeout=10)
    assert home.status_code == 200
    assert home.headers["Server"].startswith("gunicorn")
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    follower = create_user()
    assert requests.put(f"{url}/api/v1/follows/theme/cybersecurite", timeout=10, headers={
        "Authorization": f"Bearer {token_for(follower)}"}).status_code == 200
    messages: queue.Queue[tuple[str, dict]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("notification", lambda data: messages.put(("notification", data)))
    client.connect(url, auth={"token": token_for(follower)}, transports=["websocket"],
                   wait_timeout=10)
    try:
        assert client.transport() == "websocket"
        published = requests.post(
            f"{url}/api/v1/initiatives", timeout=10,
            headers={"Authorization": f"Bearer {token_for(author)}"},
            json={"town": LANNION, "title": "Double authentification des élus",
                  "summary": "Pour tous les comptes.", "body": "Comment.",
                  "themes": ["cybersecurite"]})
        assert published.status_code == 201, published.text
        name, data = messages.get(timeout=20)  # from the job thread of the web process
        assert name == "notification"
        listed = requests.get(f"{url}/api/v1/notifications", timeout=10, headers={
            "Authorization": f"Bearer {token_for(follower)}"}).json()["items"]
        assert [item["id"] for item in listed] == [data["id"]]
    finally:
        client.disconnect()
    subscribed = requests.post(f"{url}/api/v1/subscriptions", timeout=10, json={
        "email": "lecteur@example.org", "themes": ["cybersecurite"]})
    assert subscribed.status_code == 202
    deadline = time.monotonic() + 20
    while not list((instance / "mail").glob("*.eml")):
        assert time.monotonic() < deadline, "no mail file within 20 s"
        time.sleep(0.2)
    [mail] = (instance / "mail").glob("*.eml")
    assert "To: lecteur@example.org" in mail.read_text(encoding="utf-8")


@pytest.fixture
def run():
    """Run `maillage serve` with the environment's settings; return its result."""

    def invoke(*args: str):
        return CliRunner().invoke(main, ["serve", *args], obj=ScriptInfo(create_app=None))

    return invoke


def test_several_workers_need_redis(run, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MAILLAGE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    refused = run("--workers", "2")
    assert refused.exit_code == 2
    assert "--workers 2 needs REDIS_URL" in refused.output
    assert "Maillage is on" not in refused.output


def test_reload_is_for_development_and_production_needs_its_secret(run, monkeypatch,
                                                                  tmp_path) -> None:
    monkeypatch.setenv("MAILLAGE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("MAILLAGE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    refused = run()
    assert refused.exit_code == 1
    assert "SECRET_KEY is not set" in refused.output
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    refused = run("--reload")
    assert refused.exit_code == 2
    assert "--reload is for development" in refused.output
