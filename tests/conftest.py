"""Shared fixtures for API tests: a fresh database per test on SQLite and on PostgreSQL, the
app with its in-process workers, and users with tokens.

How to use them (tests under `tests/`):

    def test_something(client, add_user):        # runs twice: sqlite and postgres
        ta = add_user("ta")                       # Account(id, name, role, token, headers)
        alice = add_user("student", "alice", email="alice@example.org")
        r = client.post("/api/v1/submissions", headers=alice.headers,
                        json={"exercise": "ex2", "answers": {"alpha": "1"}})
        done = client.get(f"/api/v1/submissions/{r.json()['id']}?wait=20", headers=ta.headers)

- `database_url`: parametrised over "sqlite" (a copy of a migrated template file) and
  "postgres" (one database per session, created, migrated with Alembic and dropped at the
  end; tables truncated before each test). PostgreSQL comes from
  AUTOGRADER_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
  Use `sqlite_url` instead when a test needs only one backend.
- `settings`: `Settings` for that database, a private DATA_DIR, no Redis, no warm-up;
  `settings.model_copy(update={...})` for variants.
- `make_client(settings=None, grader_for=None)`: a started `TestClient` (lifespan on, so the
  in-process worker runs), closed at teardown; `grader_for` replaces `graders.grader`.
  `client` is `make_client()` with the real graders.
- `sessions`: a SQLAlchemy sessionmaker on the test database, to look at rows directly.
- `add_user(role="student", name=None, email=None, external_id=None) -> Account`.
- For a test that picks its own database: `sqlite_url`, `postgres_database` (session-wide;
  `truncate_tables(url)` empties it), `fresh_postgres_database()` (a context manager for an empty
  one), `sessions_for(url)`, `add_user_for(url)(role, ...)`, `add_user_sqlite`, and
  `test_settings(url, data_dir, **overrides)`.
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_user
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Base, Role
from app.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "AUTOGRADER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "autograder.db"
    migrate(f"sqlite:///{path}")
    return path


def _fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "autograder.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@contextmanager
def fresh_postgres_database(prefix: str = "autograder_test") -> Iterator[str]:
    """A new, empty, uniquely named PostgreSQL database; dropped afterwards."""
    admin_url = make_url(POSTGRES_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a clear failure, not a silent skip: CI has PostgreSQL
        admin.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable ({exc}); set AUTOGRADER_TEST_POSTGRES_URL")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """This test session's database, migrated to head with Alembic, dropped at the end."""
    with fresh_postgres_database() as url:
        migrate(url)
        yield url


def truncate_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        return _fresh_sqlite(sqlite_template, tmp_path)
    url = request.getfixturevalue("postgres_database")
    truncate_tables(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    return _fresh_sqlite(sqlite_template, tmp_path)


def test_settings(database_url: str, data_dir: Path, **overrides) -> Settings:
    """Settings for tests: explicit values, so the caller's AUTOGRADER_* environment is ignored."""
    values = dict(
        database_url=database_url,
        data_dir=data_dir,
        redis_url=None,
        warm_up=False,
        worker_threads=2,
        worker_poll_ms=50,
        lease_seconds=30.0,
        debug_grade_delay_seconds=0.0,
    )
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return test_settings(database_url, tmp_path / "data")


@pytest.fixture
def sessions(settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _user_adder(sessions: sessionmaker[Session]) -> Callable[..., Account]:
    counter = itertools.count(1)

    def add(role: str = "student", name: str | None = None, *, email: str | None = None,
            external_id: str | None = None) -> Account:
        name = name or f"{role}-{next(counter)}"
        with sessions() as db:
            user, token = create_user(db, name, Role(role), email=email, external_id=external_id)
            db.commit()
            return Account(user.id, user.name, user.role, token)

    return add


@pytest.fixture
def add_user(sessions) -> Callable[..., Account]:
    return _user_adder(sessions)


@pytest.fixture
def sessions_for() -> Iterator[Callable[[str], sessionmaker[Session]]]:
    """`sessions_for(url)`: a sessionmaker on any database (disposed at teardown)."""
    engines = []

    def make(url: str) -> sessionmaker[Session]:
        engines.append(make_engine(url))
        return make_sessionmaker(engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def add_user_for(sessions_for) -> Callable[[str], Callable[..., Account]]:
    """`add_user_for(url)("ta")`: `add_user` for a test that chose its own database."""
    return lambda url: _user_adder(sessions_for(url))


@pytest.fixture
def add_user_sqlite(sqlite_url, add_user_for) -> Callable[..., Account]:
    """`add_user` for tests that use `sqlite_url` only."""
    return add_user_for(sqlite_url)


@pytest.fixture
def make_client(request) -> Iterator[Callable[..., object]]:
    from fastapi.testclient import TestClient

    from app.main import create_app

    opened: list[TestClient] = []

    def make(settings_: Settings | None = None, grader_for=None) -> TestClient:
        kwargs = {"grader_for": grader_for} if grader_for is not None else {}
        # `settings` (and so the sqlite/postgres parametrisation) only when none is given.
        client = TestClient(create_app(settings_ or request.getfixturevalue("settings"), **kwargs))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client, settings):
    return make_client(settings)
