"""One grading job: claim the submission, grade it, write the result once.

The database decides who grades: a worker claims a submission with a conditional UPDATE
(`queued`, or `running` with an expired lease → `running` with its own attempt token) and
writes the result only while it still holds that token. A message delivered twice, or a
job requeued after a worker died, therefore writes exactly one result."""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Callable

from dramatiq.middleware.time_limit import TimeLimitExceeded
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

import graders
from graders.exercise import ExerciseGrader
from graders.result import GradeResult

from app.db import session_scope
from app.models import Submission, SubmissionItem
from app.models.base import utcnow
from app.storage import BlobStore

log = logging.getLogger(__name__)

GraderLookup = Callable[[str], ExerciseGrader]


def claim(sessions: sessionmaker[Session], submission_id: str, lease: timedelta) -> str | None:
    """Take the job; returns the attempt token, or None if it is done or someone holds it."""
    token = str(uuid.uuid4())
    now = utcnow()
    with session_scope(sessions) as db:
        claimed = db.execute(
            update(Submission)
            .where(
                Submission.id == submission_id,
                or_(
                    Submission.status == "queued",
                    and_(Submission.status == "running", Submission.lease_expires_at < now),
                ),
            )
            .values(
                status="running",
                attempt_token=token,
                lease_expires_at=now + lease,
                started_at=now,
                attempts=Submission.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return token if claimed == 1 else None


def renew(sessions: sessionmaker[Session], tokens: dict[str, str], lease: timedelta) -> None:
    """Extend the leases of the jobs this process is running (attempt token → submission)."""
    if not tokens:
        return
    with session_scope(sessions) as db:
        db.execute(
            update(Submission)
            .where(Submission.attempt_token.in_(list(tokens)), Submission.status == "running")
            .values(lease_expires_at=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )


def _take_each(db: Session, condition: list, values: dict) -> list[str]:
    """Move every submission matching `condition` with its own conditional UPDATE, so that of
    two workers sweeping at once only one takes each row; the ids this call took."""
    taken = []
    for submission_id in db.scalars(select(Submission.id).where(*condition)).all():
        moved = db.execute(
            update(Submission)
            .where(Submission.id == submission_id, *condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved:
            taken.append(submission_id)
    return taken


def release_stale(sessions: sessionmaker[Session]) -> list[str]:
    """Running jobs whose lease ran out (their worker died): back to `queued`, returned so the
    caller enqueues each once."""
    stale = [Submission.status == "running", Submission.lease_expires_at < utcnow()]
    with session_scope(sessions) as db:
        return _take_each(db, stale, {"status": "queued", "attempt_token": None, "lease_expires_at": None})


def sweep_queued(sessions: sessionmaker[Session], after: timedelta) -> list[str]:
    """Submissions `queued` for longer than `after` since a sweep first saw them (their message
    was lost: the broker was down at submit time, or Redis lost it): returned so the caller
    enqueues each again. For a queued row, `lease_expires_at` is the next such check."""
    now = utcnow()
    with session_scope(sessions) as db:
        db.execute(
            update(Submission)
            .where(Submission.status == "queued", Submission.lease_expires_at.is_(None))
            .values(lease_expires_at=now + after)
            .execution_options(synchronize_session=False)
        )
        due = [Submission.status == "queued", Submission.lease_expires_at < now]
        return _take_each(db, due, {"lease_expires_at": now + after})


def _finish(db: Session, submission_id: str, token: str, values: dict) -> bool:
    return (
        db.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.attempt_token == token, Submission.status == "running")
            .values(attempt_token=None, lease_expires_at=None, graded_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def write_result(sessions: sessionmaker[Session], submission_id: str, token: str, result: GradeResult) -> bool:
    """Store the grade and its items, if this attempt still owns the job."""
    with session_scope(sessions) as db:
        owned = _finish(
            db,
            submission_id,
            token,
            {"status": "graded", "score": result.score, "max_score": result.max_score,
             "grader_version": result.grader_version, "error": None},
        )
        if not owned:
            return False
        db.execute(delete(SubmissionItem).where(SubmissionItem.submission_id == submission_id))
        db.add_all(
            SubmissionItem(
                submission_id=submission_id,
                item_id=item.id,
                position=position,
                score=item.score,
                max_score=item.max_score,
                feedback=item.feedback,
                needs_review=item.needs_review,
            )
            for position, item in enumerate(result.items)
        )
    return True


def write_failure(sessions: sessionmaker[Session], submission_id: str, token: str, message: str) -> bool:
    with session_scope(sessions) as db:
        return _finish(db, submission_id, token, {"status": "failed", "score": None, "error": message})


def grade_claimed(
    sessions: sessionmaker[Session],
    store: BlobStore,
    grader_for: GraderLookup,
    submission_id: str,
    token: str,
    delay_seconds: float = 0.0,
) -> bool:
    """Grade a claimed submission and store the outcome. A grader that raises marks the
    submission `failed` with a message; it never propagates into the worker."""
    with sessions() as db:
        submission = db.get(Submission, submission_id)
        if submission is None:
            return False
        exercise, answers = submission.exercise, dict(submission.answers)
        files = [(f.name, f.filename, f.sha256) for f in submission.files]
    if delay_seconds:
        time.sleep(delay_seconds)  # test-only hook (settings.debug_grade_delay_seconds)
    workdir = Path(tempfile.mkdtemp(prefix=f"grade-{submission_id[:8]}-", dir=store.tmp_dir))
    try:
        outcome = _run_grader(store, grader_for, exercise, answers, files, submission_id, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # before the result is visible
    if isinstance(outcome, str):
        return write_failure(sessions, submission_id, token, outcome)
    return write_result(sessions, submission_id, token, outcome)


def _run_grader(
    store: BlobStore,
    grader_for: GraderLookup,
    exercise: str,
    answers: dict,
    files: list[tuple[str, str, str]],
    submission_id: str,
    workdir: Path,
) -> GradeResult | str:
    """The grade, or the message a failed submission shows."""
    # Graders get private copies under the names students gave them (the suffix says
    # whether weights are safetensors or .pt); the stored blobs stay untouched.
    paths: dict[str, Path] = {}
    for name, filename, sha256 in files:
        target = workdir / name / Path(filename).name
        target.parent.mkdir()
        shutil.copyfile(store.path(sha256), target)
        paths[name] = target
    try:
        return grader_for(exercise).grade(answers, paths, submission_id)
    except TimeLimitExceeded:
        return "Grading took longer than the time limit; a TA will look at it."
    except graders.UnknownExercise:
        return f"exercise {exercise!r} no longer exists"
    except Exception as exc:
        log.exception("grading %s (%s) failed", submission_id, exercise)
        return f"The grader failed ({type(exc).__name__}); a TA has been notified and will grade it by hand."
