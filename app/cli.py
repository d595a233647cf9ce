"""`autograder serve | worker | migrate | grade | users add` (contract §5).

Configuration comes from `AUTOGRADER_*` environment variables (app/settings.py)."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import typer
from pydantic import ValidationError

# Before anything imports torch: one BLAS thread per grading thread.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

app = typer.Typer(help="Exercise Sheet 8 autograder.", no_args_is_help=True, add_completion=False)
users = typer.Typer(help="Manage users and their tokens.", no_args_is_help=True)
app.add_typer(users, name="users")


@app.callback()
def _root() -> None:
    """Exercise Sheet 8 autograder: serve the API, grade offline, manage users."""


def _load_submission(path: Path) -> tuple[dict, dict[str, Path]]:
    """A submission.json, or a folder holding it beside the uploaded files."""
    from graders import rubric
    from graders.files import match_upload

    folder = path if path.is_dir() else path.parent
    doc_path = path / "submission.json" if path.is_dir() else path
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "exercise" not in doc:
        raise typer.BadParameter(f"{doc_path}: expected an object with 'exercise' and 'answers'")
    files: dict[str, Path] = {}
    if path.is_dir() or doc.get("files"):
        spec = rubric(doc["exercise"])
        for candidate in sorted(folder.iterdir()):
            if candidate.is_file() and candidate.name != "submission.json":
                match = match_upload(spec, candidate.name)
                if match is not None:
                    files[match.name] = candidate
    return doc, files


@app.command()
def grade(path: Path = typer.Argument(..., exists=True, help="submission.json or a folder holding it")) -> None:
    """Grade one submission offline and print the result (contract §3a) as JSON."""
    import graders

    doc, files = _load_submission(path)
    try:
        result = graders.grader(doc["exercise"]).grade(doc.get("answers") or {}, files)
    except graders.UnknownExercise:
        typer.echo(f"unknown exercise {doc['exercise']!r}; known: {', '.join(graders.exercise_ids())}", err=True)
        raise typer.Exit(2)
    except ValidationError as exc:
        typer.echo(f"invalid answers: {exc}", err=True)
        raise typer.Exit(2)
    sys.stdout.write(result.model_dump_json(indent=1) + "\n")


def _migrated_settings():
    from app.db import migrate
    from app.settings import Settings

    settings = Settings()  # read the environment now (not a cached copy)
    migrate(settings.database_url)
    return settings


def _first_ta_token(settings) -> str | None:
    """Create a TA (and return their token) if the database has none yet."""
    from sqlalchemy import select

    from app.auth import create_user
    from app.db import make_engine, make_sessionmaker
    from app.models import Role, User

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            if db.scalar(select(User.id).where(User.role == Role.ta.value).limit(1)) is not None:
                return None
            _user, token = create_user(db, "ta", Role.ta)
            db.commit()
            return token
    finally:
        engine.dispose()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (`alembic upgrade head`)."""
    settings = _migrated_settings()
    typer.echo(f"database {settings.database_url} is up to date", err=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Migrate the database and serve the API (with in-process workers unless AUTOGRADER_REDIS_URL is set)."""
    import logging

    import uvicorn

    from app.main import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _migrated_settings()
    token = _first_ta_token(settings)
    if token is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.ta_token_file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        typer.echo(
            f"First start: created the TA 'ta'. Token (also in {path}, readable only by you):\n  {token}\n"
            "Another TA token: autograder users add --role ta NAME",
            err=True,
        )
    workers = "Redis workers (run: autograder worker)" if settings.uses_redis else f"{settings.worker_threads} in-process grading threads"
    typer.echo(f"Serving http://{host}:{port}/docs with {workers}", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def worker() -> None:
    """Grade submissions from the Redis queue (AUTOGRADER_REDIS_URL) until SIGTERM/SIGINT."""
    import logging

    from app.queue import limit_threads
    from app.services import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limit_threads()
    settings = _migrated_settings()
    if not settings.uses_redis:
        typer.echo("autograder worker needs AUTOGRADER_REDIS_URL (without it, `autograder serve` grades in-process)", err=True)
        raise typer.Exit(2)
    services = Services.build(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    services.queue.start_worker()
    typer.echo(f"worker {os.getpid()} grading with {settings.worker_threads} threads", err=True)
    stop.wait()
    services.close()


@users.command("add")
def users_add(
    name: str = typer.Argument(..., help="display name"),
    role: str = typer.Option("student", "--role", help="student, ta or lms"),
    email: str | None = typer.Option(None, help="e-mail (students)"),
    external_id: str | None = typer.Option(None, "--external-id", help="the LMS's user id (students)"),
) -> None:
    """Add a user and print their token (only the token, on stdout). For an existing
    user (same name and role, or same email/external id) a new token replaces the old."""
    from sqlalchemy import and_, or_, select

    from app.auth import create_user, rotate_token
    from app.db import make_engine, make_sessionmaker
    from app.models import Role, User

    try:
        role_ = Role(role)
    except ValueError:
        typer.echo(f"unknown role {role!r}; use student, ta or lms", err=True)
        raise typer.Exit(2)
    settings = _migrated_settings()
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            identities = [User.email == email] if email else []
            identities += [User.external_id == external_id] if external_id else []
            match = or_(*identities) if identities else and_(User.name == name, User.role == role_.value)
            user = db.scalars(select(User).where(match).order_by(User.id)).first()
            if user is None:
                user, token = create_user(db, name, role_, email=email, external_id=external_id)
                typer.echo(f"added {role_.value} {name!r} (id {user.id})", err=True)
            else:
                token = rotate_token(user)
                typer.echo(f"{user.role} {user.name!r} (id {user.id}) exists: issued a new token, the old one no longer works", err=True)
            db.commit()
    finally:
        engine.dispose()
    typer.echo(token)


def main() -> None:
    app()
