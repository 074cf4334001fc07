"""Fixtures: a migrated database with the real communes, an app per test, factories of users.

The suite runs on SQLite by default and on PostgreSQL when MAILLAGE_TEST_DATABASE_URL names a
server (`make test` runs both). With MAILLAGE_REQUIRE_SERVICES=1 (as in CI), a service that
does not answer fails the run instead of skipping it. The classes and helpers behind these
fixtures are in tests/support/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import selectinload

from maillage import migrate
from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, Scope, User, VerificationSource
from maillage.app import create_app
from maillage.database import Base, session, transaction
from maillage.themes.operations import load_themes
from maillage.towns.operations import import_communes
from tests.support.app import ServerLikeClient, app_config, finish_jobs
from tests.support.browser import CHROMIUM, launch
from tests.support.databases import REFERENCE_TABLES, Databases
from tests.support.redis_server import RedisServer
from tests.support.services import SHARED_REDIS, service_missing
from tests.support.smtp import SmtpServer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out, on SQLite, the tests marked `postgres_only`: they check what only PostgreSQL
    has (reported as deselected, not as skipped: nothing is missing)."""
    if os.environ.get("MAILLAGE_TEST_DATABASE_URL"):
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The factory of empty databases of this run's backend."""
    from maillage.settings import database_url

    server = os.environ.get("MAILLAGE_TEST_DATABASE_URL")
    dbs = Databases(database_url(server) if server else None,
                    tmp_path_factory.mktemp("databases"))
    if server:
        try:
            dbs._admin().close()
        except sa.exc.OperationalError as error:
            service_missing(f"PostgreSQL does not answer at {server}: {error.orig}")
    yield dbs
    if server:
        dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database holding the real communes and the themes, shared by the run."""
    url = databases.create()
    migrate.upgrade(url)
    app = create_app(app_config(url, tmp_path_factory.mktemp("reference")))
    with app.app_context(), transaction():
        import_communes()
        load_themes()
    app.extensions["maillage.engine"].dispose()
    return url


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the shared database, with config overrides."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(app_config(database_url, tmp_path) | overrides)
        app.test_client_class = ServerLikeClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        finish_jobs(app)
        engine = app.extensions["maillage.engine"]
        if app.config["DATABASE_URL"] != database_url:
            engine.dispose()
            continue
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    connection.execute(table.delete())
        engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app under test, in an app context; the tables it filled are emptied afterwards.

    In tests marked `smtp`, it sends its mail to the loopback server of the `smtp` fixture.
    """
    overrides = {"SMTP_URL": request.getfixturevalue("smtp").url} \
        if request.node.get_closest_marker("smtp") else {}
    app = make_app(**overrides)
    with app.app_context():
        yield app
    # Before the SMTP server of a test marked `smtp` stops: a job may still be sending to it.
    finish_jobs(app)
    session.remove()


@pytest.fixture
def wait(app: Flask) -> Callable[[], None]:
    """Return a function that waits until the embedded worker thread has run every job."""

    def drain() -> None:
        assert app.extensions["maillage.queues"].join(timeout=30)
        session.remove()

    return drain


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def create_user(app: Flask) -> Callable[..., User]:
    """Return a factory of committed users, optionally members of a town or referents by an
    admin's grant; their address is confirmed unless `confirmed=False`."""
    counter = iter(range(1, 10_000))

    def create(email: str | None = None, *, password: str | None = None,
               town: str | None = None, role: Role = Role.AGENT, verified: bool = False,
               admin: bool = False, moderator: bool = False, granted: bool = False,
               expertise: tuple[str, ...] = (), confirmed: bool = True) -> User:
        email = email or f"person{next(counter)}@example.org"
        with transaction():
            user = accounts.create_user(email, email.split("@")[0].title(), password,
                                        is_admin=admin, is_moderator=moderator,
                                        confirmed=confirmed)
            if town:
                membership = accounts.join_town(user, town, role)
                if verified:
                    accounts.verify_membership(membership, None, VerificationSource.ADMIN)
            if granted:  # a referent by an admin's grant, from the command line
                accounts.grant_referent(user, None)
            if expertise:
                accounts.set_expertise(user, expertise)
            user_id = user.id
        # With its memberships, which tests read after the session that loaded it is gone.
        return session.get(User, user_id, options=[selectinload(User.memberships)])

    return create


@pytest.fixture
def token_for(app: Flask) -> Callable[[User, Scope], str]:
    """Return a factory of personal API tokens: `token_for(user, Scope.WRITE)`."""

    def create(user: User, scope: Scope = Scope.WRITE) -> str:
        with transaction():
            _token, secret = accounts.create_token(session.get(User, user.id), scope)
        return secret

    return create


@pytest.fixture
def sign_in(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Return a function that signs `client` in as a user, through the session cookie."""

    def sign(user: User) -> FlaskClient:
        with client.session_transaction() as cookie_session:
            cookie_session["_user_id"] = user.get_id()
            cookie_session["_fresh"] = True
        return client

    return sign


@pytest.fixture
def csrf(client: FlaskClient) -> Callable[[], str]:
    """Return a function giving the CSRF token of `client`'s session, as a page embeds it."""

    def token() -> str:
        page = client.get("/sign-in").get_data(as_text=True)
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        return page[start:page.index('"', start)]

    return token


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A loopback SMTP server for the test; point an app at it with SMTP_URL=smtp.url."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, started; the test may stop and start it again."""
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """The machine's Redis, on a database of the tests' own, emptied before and after."""
    client = Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    try:
        client.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")
    yield SHARED_REDIS
    client.flushdb()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one for a module's tests: each opens its own contexts in it."""
    if not CHROMIUM.exists():
        service_missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()
