"""Storing a new submission: blobs, rows and the Idempotency-Key, all or nothing."""
from __future__ import annotations

import uuid

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import graders

from app.models import Blob, Submission, SubmissionFile, User
from app.storage import BlobStore
from app.uploads import IncomingSubmission


def _existing(db: Session, user: User, key: str) -> Submission | None:
    return db.scalar(select(Submission).where(Submission.user_id == user.id, Submission.idempotency_key == key))


def _replay(existing: Submission, digest: str) -> Submission:
    if existing.request_digest != digest:
        raise HTTPException(422, "this Idempotency-Key was already used for a different submission")
    return existing


def _insert_blob(db: Session, sha256: str, size: int) -> None:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(Blob).values(sha256=sha256, size=size).on_conflict_do_nothing(index_elements=["sha256"]))


def _forget_new_blobs(db: Session, store: BlobStore, created: list[str]) -> None:
    """Remove blobs this request put on disk, unless a committed row refers to them."""
    for sha256 in created:
        if db.scalar(select(SubmissionFile.sha256).where(SubmissionFile.sha256 == sha256).limit(1)) is None:
            store.delete(sha256)


def store_submission(
    db: Session, store: BlobStore, user: User, incoming: IncomingSubmission, idempotency_key: str | None
) -> tuple[Submission, bool]:
    """Commit the submission (status `queued`); returns it and whether it is new. A repeated
    Idempotency-Key from the same user returns the first submission and stores nothing."""
    digest = incoming.digest()
    if idempotency_key is not None:
        existing = _existing(db, user, idempotency_key)
        if existing is not None:
            incoming.discard()
            return _replay(existing, digest), False
    created: list[str] = []
    try:
        submission = Submission(
            id=str(uuid.uuid4()),
            user_id=user.id,
            exercise=incoming.exercise,
            answers=incoming.answers,
            status="queued",
            max_score=graders.rubric(incoming.exercise).max_points,
            idempotency_key=idempotency_key,
            request_digest=digest,
            attempts=0,
        )
        db.add(submission)
        for staged in incoming.files:
            assert staged.spec is not None
            size = staged.writer.size
            sha256, new = staged.writer.commit()
            if new:
                created.append(sha256)
            _insert_blob(db, sha256, size)
            submission.files.append(
                SubmissionFile(name=staged.spec.name, filename=staged.filename, sha256=sha256, size=size)
            )
        db.commit()
    except IntegrityError:
        # Two requests with the same Idempotency-Key at once: the other one won.
        db.rollback()
        _forget_new_blobs(db, store, created)
        existing = _existing(db, user, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, digest), False
    except BaseException:
        db.rollback()
        incoming.discard()
        _forget_new_blobs(db, store, created)
        raise
    return submission, True
