"""Rate limits (429 with Retry-After, JSON under /api, a page elsewhere) and password lockout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from maillage.accounts.models import SignInFailure, User
from maillage.database import session, transaction, utcnow
from maillage.follows.models import Follow
from maillage.limits import limiter
from tests.support.services import SHARED_REDIS, service_missing


def _csrf(client) -> str:
    page = client.get("/sign-in").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


@pytest.fixture
def redis_counts() -> Iterator[Redis]:
    """The test Redis, without rate limit counts before and after the test."""
    redis = Redis.from_url(SHARED_REDIS)
    try:
        redis.ping()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")

    def forget() -> None:
        keys = redis.keys("LIMITS:*")
        if keys:
            redis.delete(*keys)

    forget()
    yield redis
    forget()
    redis.close()


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_sign_in_is_limited_per_address(make_app, request, storage: str) -> None:
    overrides = {"RATE_LIMIT_SIGN_IN": "3 per minute"}
    if storage == "redis":
        redis = request.getfixturevalue("redis_counts")
        overrides["RATELIMIT_STORAGE_URI"] = SHARED_REDIS
    app = make_app(**overrides)
    client = app.test_client()
    token = _csrf(client)
    form = {"csrf_token": token, "email": "nobody@example.org", "password": "a guess"}
    assert [client.post("/sign-in", data=form).status_code for _ in range(3)] == [422] * 3
    refused = client.post("/sign-in", data=form)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "text/html"
    assert "Trop de requêtes" in refused.get_data(as_text=True)
    assert client.get("/sign-in").status_code == 200, "showing the form is not limited"
    if storage == "redis":
        assert redis.keys("LIMITS:*sign-in*"), "the counts are kept in Redis"


def test_counts_go_to_redis_when_redis_url_is_set(make_app, redis_counts) -> None:
    app = make_app(REDIS_URL=SHARED_REDIS)
    assert app.config["RATELIMIT_STORAGE_URI"] == SHARED_REDIS
    assert type(limiter.storage).__name__ == "RedisStorage"
    assert make_app().config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_with_redis_away_writes_go_on_and_sign_in_stays_limited(make_app, own_redis,
                                                                 smtp) -> None:
    app = make_app(REDIS_URL=own_redis.url, SMTP_URL=smtp.url, RATE_LIMIT_SIGN_IN="3 per minute")
    client = app.test_client()
    token = _csrf(client)
    own_redis.stop()
    subscribed = client.post("/api/v1/subscriptions", json={
        "email": "abonne@example.org", "themes": ["cybersecurite"]})
    assert subscribed.status_code == 202, subscribed.get_data(as_text=True)
    form = {"csrf_token": token, "email": "nobody@example.org", "password": "a guess"}
    assert [client.post("/sign-in", data=form).status_code for _ in range(4)] == \
        [422, 422, 422, 429]
    limiter._storage_dead = False  # the one limiter outlives this app: the next one's Redis is up


def test_sign_up_is_limited(app, make_app) -> None:
    client = make_app(RATE_LIMIT_SIGN_UP="2 per hour").test_client()
    token = _csrf(client)
    statuses = [client.post("/sign-up", data={
        "csrf_token": token, "email": f"new{n}@example.org", "display_name": "New",
        "password": "long enough password"}).status_code for n in range(3)]
    assert statuses == [303, 303, 429]
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_requests_with_a_token_are_limited_per_address_even_unknown_ones(
        make_app, create_user, token_for) -> None:
    app = make_app(RATE_LIMIT_TOKEN="3 per minute")
    client = app.test_client()
    secret = token_for(create_user())
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer guess"}).status_code == 401
    statuses = [client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
                .status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 429
    assert refused.json["code"] == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/v1/themes").status_code == 200, "without a token: not counted"


def test_every_write_is_limited_and_a_refused_one_changes_nothing(
        make_app, create_user, token_for) -> None:
    client = make_app(RATE_LIMIT_WRITE="2 per minute").test_client()
    headers = {"Authorization": f"Bearer {token_for(create_user())}"}
    other = {"Authorization": f"Bearer {token_for(create_user())}"}
    assert client.put("/api/v1/follows/town/22113", headers=headers).status_code == 200
    assert client.put("/api/v1/follows/town/29232", headers=headers).status_code == 200
    refused = client.put("/api/v1/follows/town/35238", headers=headers)
    assert refused.status_code == 429
    assert refused.json["status"] == "Too Many Requests"
    assert "Retry-After" in refused.headers
    assert session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 2
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(5)] == \
        [200] * 5, "reads are not writes"
    assert client.put("/api/v1/follows/town/35238", headers=other).status_code == 200, \
        "each requester has their own count"


def test_wrong_passwords_in_a_row_lock_password_sign_in(make_app, create_user) -> None:
    app = make_app(LOCKOUT_ATTEMPTS=3, LOCKOUT_MINUTES=15)
    client = app.test_client()
    user = create_user("mayor@example.org", password="the right password")
    token = _csrf(client)

    def attempt(password: str):
        return client.post("/sign-in", data={"csrf_token": token,
                                             "email": "mayor@example.org",
                                             "password": password})

    assert [attempt("wrong").status_code for _ in range(3)] == [422] * 3
    locked = attempt("the right password")
    assert locked.status_code == 422
    assert "Trop de mots de passe erronés" in locked.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    session.expire_all()
    [failure] = session.scalars(sa.select(SignInFailure)).all()
    assert (failure.user_id, failure.source, failure.failures) == (user.id, "127.0.0.1", 3)

    with transaction():  # fifteen minutes later
        session.get(SignInFailure, (user.id, "127.0.0.1")).locked_until = \
            utcnow() - timedelta(seconds=1)
    assert attempt("the right password").status_code == 303
    session.expire_all()
    assert session.scalars(sa.select(SignInFailure)).all() == []
