"""The database: declarative base, engine, the session registry and the unit of work.

A request's writes are committed once, after its view returned a success, and rolled back
otherwise, so a refused write changes nothing. Commands and jobs use `transaction()`. What
must happen only once the work is committed (queueing an event's processing, a mail job) is
handed to `after_commit`, and forgotten if the work rolls back.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_app_context
from flask.globals import app_ctx
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A column's `info` saying it holds a person's email address: its rows are that person's,
# whether or not an account uses the address, so the personal data export holds them and
# deleting the account deletes them (privacy/), a table added later included.
ADDRESS = {"address": True}
# A column's `info` saying it holds an account's id with no foreign key (a table written a
# million rows at a time, where a key costs a check per row): its rows go in the account's
# export and with its deletion as if a key said so (privacy/).
PERSON = {"person": True}


class Base(DeclarativeBase):
    """Base of every model; constraint names are fixed so that migrations can refer to them."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    @classmethod
    def __table_cls__(cls, name: str, metadata: sa.MetaData, *args: Any,
                      **kwargs: Any) -> sa.Table:
        """Build the model's table; one keyed by a surrogate integer id never reuses an id.

        Ids travel in sessions, links and tokens. SQLite, without AUTOINCREMENT, gives a new
        row the highest id deleted before, so a link or cookie of a deleted account would
        name whoever signed up next; PostgreSQL's sequences never go back.
        """
        keys = [arg for arg in args if isinstance(arg, sa.Column) and arg.primary_key]
        if len(keys) == 1 and keys[0].name == "id":
            kwargs.setdefault("sqlite_autoincrement", True)
        return sa.Table(name, metadata, *args, **kwargs)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC: what every timestamp column stores."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, SQLite included."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _scope() -> int:
    """Give each app context (a request, a command, a job) its own session."""
    if has_app_context():
        return id(app_ctx._get_current_object())  # type: ignore[attr-defined]
    return threading.get_ident()


def enum_column(cls: type[enum.StrEnum]) -> sa.Enum:
    """Store an enum as its values in a portable VARCHAR with a CHECK constraint."""
    return sa.Enum(cls, native_enum=False, create_constraint=True, length=16,
                   values_callable=lambda members: [m.value for m in members])


class AppSession(Session):
    """A session on the database of the current app, so that several apps never mix."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        if self.bind is not None:
            return self.bind
        return current_app.extensions["maillage.engine"]


session: scoped_session[Session] = scoped_session(
    sessionmaker(class_=AppSession, expire_on_commit=False), scopefunc=_scope)


def create_engine(url: str) -> Engine:
    """Create the engine for `url`, with SQLite made safe for a web process and its jobs."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def insert(model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """Return an INSERT into `model` in the current database's dialect, which alone knows
    ON CONFLICT DO NOTHING: the way to write a row that may already be there, with no race."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def after_commit(callback: Callable[[], object]) -> None:
    """Call `callback` once the current transaction has committed, never if it rolls back.

    A job queued before the commit could run before it, and not find what it is about. The
    callbacks run in the order given, in the app context that committed.
    """
    session().info.setdefault(_AFTER_COMMIT, []).append(callback)


_AFTER_COMMIT = "maillage.after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(committed: Session) -> None:
    # A savepoint released is not a commit: its callbacks wait for the transaction's end.
    if committed.in_nested_transaction():
        return
    callbacks = committed.info.pop(_AFTER_COMMIT, None)
    if callbacks and has_app_context():
        for callback in callbacks:
            callback()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(rolled_back: Session) -> None:
    # A savepoint rolled back (a lost race to follow) leaves the transaction's callbacks be.
    if not rolled_back.in_nested_transaction():
        rolled_back.info.pop(_AFTER_COMMIT, None)


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a command's or a job's work in one transaction, committed when the block succeeds."""
    try:
        yield session()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.remove()


@contextmanager
def autocommit(*, flush_to_disk: bool = True) -> Iterator[Session]:
    """Run work whose every statement commits on its own, on one connection held for the
    block: writes each done the moment they are known, at the cost of their own round trip
    (no BEGIN, no COMMIT, no connection taken from the pool each time), and no transaction
    open in between. `session.commit()` still runs the `after_commit` callbacks.

    Without `flush_to_disk`, PostgreSQL does not wait for each commit to reach the disk: a
    server crash may forget the last few writes, never leave half of one.
    """
    engine: Engine = current_app.extensions["maillage.engine"]
    postgresql = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if postgresql and not flush_to_disk:
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
        own = AppSession(bind=connection)
        session.registry.set(own)
        try:
            yield own
            own.commit()
        finally:
            own.close()
            session.remove()
            if postgresql and not flush_to_disk:
                connection.exec_driver_sql("RESET synchronous_commit")


def init_app(app: Flask) -> None:
    """Bind the session to the app's database and commit at the end of successful requests."""
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        app.config["INSTANCE_PATH"].mkdir(parents=True, exist_ok=True)
    engine = create_engine(app.config["DATABASE_URL"])
    app.extensions["maillage.engine"] = engine

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
        return response

    @app.teardown_appcontext
    def remove_session(_exc: BaseException | None) -> None:
        session.remove()
