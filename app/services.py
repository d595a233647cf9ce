"""What one running app holds: settings, database, file store, queue, waiters.

`create_app` builds one `Services` and keeps it in `app.state.services`; routes reach it
through `app.deps`. Tests and the CLI build one directly to reach the same database."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import graders

from app.db import make_engine, make_sessionmaker
from app.grading import GraderLookup
from app import regrades
from app.lti import hooks as lti_hooks
from app.queue import GradingQueue
from app.settings import Settings
from app.storage import BlobStore
from app.waiters import GradeWaiters


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    queue: GradingQueue
    grader_for: GraderLookup = graders.grader
    waiters: GradeWaiters = field(default_factory=GradeWaiters)

    @classmethod
    def build(cls, settings: Settings, grader_for: GraderLookup = graders.grader) -> "Services":
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        store = BlobStore(settings.blob_dir, settings.tmp_dir)
        waiters = GradeWaiters()

        def finished(submission_id: str) -> None:
            regrades.keep_grade_on_failure(sessions, submission_id)  # a failed regrade keeps the grade
            waiters.notify(submission_id)
            lti_hooks.submission_finished(sessions, submission_id)  # grade passback to the LMS

        queue = GradingQueue(settings, sessions, store, grader_for, on_finished=finished)
        return cls(settings, engine, sessions, store, queue, grader_for, waiters)

    @property
    def runs_worker(self) -> bool:
        return self.settings.in_process_worker and not self.settings.uses_redis

    def start(self) -> None:
        if self.runs_worker:
            self.queue.start_worker()

    def close(self) -> None:
        self.queue.stop()
        self.engine.dispose()
