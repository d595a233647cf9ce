"""The grading queue: Dramatiq actors over the database's job state.

- Without `AUTOGRADER_REDIS_URL`: a StubBroker and a `dramatiq.Worker` with a few threads run
  inside the API process (`autograder serve`).
- With it: the API only enqueues on a RedisBroker; `autograder worker` processes grade.
  Messages are acked after processing; when a worker dies, the broker's maintenance gives its
  unacked messages to the living after `redis_heartbeat_timeout_ms`.

Either way the database is the source of truth: a worker that starts enqueues everything
still `queued` or `running`, and a housekeeping thread renews the leases of the jobs it runs,
puts jobs whose lease ran out (dead worker) back in the queue, and enqueues again what waited
`queued` too long (a message lost by a broker that was down). `app.grading.claim` makes
a duplicate delivery harmless."""
from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import graders

from app import grading
from app.models import Submission
from app.settings import Settings
from app.storage import BlobStore

log = logging.getLogger(__name__)

ACTOR_NAME = "grade_submission"
QUEUE_NAME = "grading"
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def limit_threads() -> None:
    """One BLAS/torch thread per grading thread: set before torch is imported (and after)."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def make_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        return RedisBroker(
            url=settings.redis_url,
            namespace=settings.redis_namespace,
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=settings.redis_maintenance_chance,
        )
    return StubBroker()


class GradingQueue:
    """Enqueue grading jobs; optionally run a worker (threads) in this process."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        store: BlobStore,
        grader_for: grading.GraderLookup = graders.grader,
        on_finished: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.grader_for = grader_for
        self.on_finished = on_finished
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.requeue_after = timedelta(seconds=settings.requeue_queued_after_seconds)
        self.broker = make_broker(settings)
        self.actor = dramatiq.Actor(
            self._run,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=0,
            # Only infrastructure errors reach Dramatiq (a failing grader is a `failed` grade).
            options={
                "max_retries": 5,
                "min_backoff": 500,
                "max_backoff": 30_000,
                "time_limit": int(settings.grade_time_limit_seconds * 1000),
            },
        )
        self.worker: dramatiq.Worker | None = None
        self._running: dict[str, str] = {}  # attempt token -> submission id
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- producer side ----------------------------------------------------------------------

    def enqueue(self, submission_id: str) -> None:
        self.actor.send(submission_id)

    def requeue_unfinished(self) -> int:
        """Enqueue every submission still `queued` or `running` (the claim sorts out which
        of them really need grading)."""
        with self.sessions() as db:
            ids = db.scalars(
                select(Submission.id).where(Submission.status.in_(("queued", "running"))).order_by(Submission.created_at)
            ).all()
        for submission_id in ids:
            self.enqueue(submission_id)
        return len(ids)

    # -- worker side ------------------------------------------------------------------------

    def _run(self, submission_id: str) -> None:
        token = grading.claim(self.sessions, submission_id, self.lease)
        if token is None:
            return  # already graded, or another worker holds a live lease
        with self._lock:
            self._running[token] = submission_id
        try:
            grading.grade_claimed(
                self.sessions, self.store, self.grader_for, submission_id, token,
                delay_seconds=self.settings.debug_grade_delay_seconds,
            )
        finally:
            with self._lock:
                self._running.pop(token, None)
            if self.on_finished is not None:
                try:
                    self.on_finished(submission_id)
                except Exception:  # a hook (waiters, LMS passback) must not fail the job
                    log.exception("after-grading hook for %s failed", submission_id)

    def _housekeeping(self) -> None:
        interval = max(self.settings.lease_seconds / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                with self._lock:
                    mine = dict(self._running)
                grading.renew(self.sessions, mine, self.lease)
                for submission_id in grading.release_stale(self.sessions):
                    log.warning("submission %s lost its worker; queued again", submission_id)
                    self.enqueue(submission_id)
                for submission_id in grading.sweep_queued(self.sessions, self.requeue_after):
                    log.warning("submission %s waited too long in the queue; queued again", submission_id)
                    self.enqueue(submission_id)
            except Exception:
                log.exception("queue housekeeping failed; retrying")

    def _warm_up(self) -> None:
        for exercise in graders.exercise_ids():
            if self._stop.is_set():
                return
            try:
                self.grader_for(exercise).warm_up()
            except Exception:
                log.exception("warming up %s failed; it will be built on its first submission", exercise)
        limit_threads()

    def start_worker(self) -> None:
        limit_threads()
        self.worker = dramatiq.Worker(
            self.broker,
            queues={QUEUE_NAME},
            worker_threads=self.settings.worker_threads,
            worker_timeout=self.settings.worker_poll_ms,
        )
        self.worker.start()
        background = [self._housekeeping] + ([self._warm_up] if self.settings.warm_up else [])
        for target in background:
            thread = threading.Thread(target=target, name=f"queue{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        requeued = self.requeue_unfinished()
        if requeued:
            log.info("queued %d unfinished submissions again", requeued)

    def stop(self, timeout_ms: int = 30_000) -> None:
        self._stop.set()
        if self.worker is not None:
            self.worker.stop(timeout=timeout_ms)
            self.worker = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self.broker.close()
