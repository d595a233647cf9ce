""""A grade changed" → send the student's counted grade for that exercise to every LTI line
item they launched it from. Called after grading (worker), an override and a regrade.

Pushes run on one background thread per process, in order, so a slow platform never holds
a request or a grading thread, and two changes in a row reach the platform in that order."""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.gradebook import counted_for, graded_submissions, overrides_for
from app.lti.config import config_path, tool_config
from app.lti.passback import ScoreTarget, post_score
from app.models import Submission
from app.models.base import utcnow
from app.models.lti import LtiGradeTarget

log = logging.getLogger(__name__)
_pushes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lti-passback")


def grade_changed(sessions: sessionmaker[Session], user_id: int, exercise: str) -> Future | None:
    if config_path() is None:
        return None  # LTI switched off: nothing to do, not even a query
    return _pushes.submit(_push_logged, sessions, user_id, exercise)


def submission_finished(sessions: sessionmaker[Session], submission_id: str) -> Future | None:
    """The worker's hook: a submission was just graded (or failed)."""
    if config_path() is None:
        return None
    with sessions() as db:
        sub = db.get(Submission, submission_id)
        if sub is None or sub.status != "graded":
            return None
        return grade_changed(sessions, sub.user_id, sub.exercise)


def _push_logged(sessions: sessionmaker[Session], user_id: int, exercise: str) -> int:
    try:
        return push(sessions, user_id, exercise)
    except Exception:
        log.exception("LTI grade passback for user %s, %s failed", user_id, exercise)
        return 0


def push(sessions: sessionmaker[Session], user_id: int, exercise: str) -> int:
    """POST the counted grade to each of the student's line items for the exercise; returns
    how many the platform accepted. Each target keeps its last outcome for the TAs."""
    with sessions() as db:
        targets = list(db.scalars(select(LtiGradeTarget).where(
            LtiGradeTarget.user_id == user_id, LtiGradeTarget.exercise == exercise)))
        if not targets:
            return 0
        subs = graded_submissions(db, user_id=user_id, exercise=exercise)
        counted = counted_for(exercise, subs, overrides_for(db, [s.id for s in subs]))
        if counted is None:
            return 0
        conf = tool_config()
        sent = 0
        for t in targets:
            target = ScoreTarget(t.iss, t.client_id, t.lineitem, tuple(t.scopes), t.sub)
            try:
                post_score(conf, target, counted.score, counted.max_score)
            except Exception as exc:  # the platform's refusal is recorded, the others still go
                t.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("LTI score POST to %s failed: %s", t.lineitem, t.last_error)
                continue
            t.last_score, t.last_pushed_at, t.last_error = counted.score, utcnow(), None
            sent += 1
        db.commit()
        return sent
