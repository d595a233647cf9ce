"""End to end through a real Redis broker and separate `autograder worker` processes (the
entrypoint docker-compose uses), on PostgreSQL: a worker SIGKILLed in the middle of a grade
loses nothing, and the submission is graded exactly once by the next worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

import graders
from app.models import Submission, SubmissionItem

from tests.conftest import truncate_tables, test_settings

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("AUTOGRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
EXAMPLE = {"exercise": "ex2", "answers": {"alpha": "1", "objective": "u^T S u"}}


@pytest.fixture
def e2e_settings(postgres_database, tmp_path):
    truncate_tables(postgres_database)
    namespace = f"autograder-e2e-{uuid.uuid4().hex[:8]}"
    settings = test_settings(
        postgres_database, tmp_path / "data",
        redis_url=REDIS_URL, redis_namespace=namespace,
        lease_seconds=2.0, redis_heartbeat_timeout_ms=2000, redis_maintenance_chance=1_000_000,
        worker_threads=1, worker_poll_ms=100,
    )
    yield settings
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)


def start_worker(settings, log: Path, **extra_env: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "AUTOGRADER_DATABASE_URL": settings.database_url,
        "AUTOGRADER_REDIS_URL": settings.redis_url,
        "AUTOGRADER_REDIS_NAMESPACE": settings.redis_namespace,
        "AUTOGRADER_DATA_DIR": str(settings.data_dir),
        "AUTOGRADER_WARM_UP": "false",
        "AUTOGRADER_LEASE_SECONDS": str(settings.lease_seconds),
        "AUTOGRADER_REDIS_HEARTBEAT_TIMEOUT_MS": str(settings.redis_heartbeat_timeout_ms),
        "AUTOGRADER_REDIS_MAINTENANCE_CHANCE": str(settings.redis_maintenance_chance),
        "AUTOGRADER_WORKER_THREADS": str(settings.worker_threads),
        "AUTOGRADER_WORKER_POLL_MS": str(settings.worker_poll_ms),
        **extra_env,
    }
    autograder = Path(sys.executable).parent / "autograder"
    return subprocess.Popen([str(autograder), "worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_grade_loses_nothing(e2e_settings, make_client, sessions_for, add_user_for, tmp_path):
    settings = e2e_settings
    sessions = sessions_for(settings.database_url)
    api = make_client(settings)  # Redis mode: the API only enqueues
    alice = add_user_for(settings.database_url)("student", "alice")
    log = tmp_path / "workers.log"

    def status(sid: str) -> str:
        with sessions() as db:
            return db.get(Submission, sid).status

    doomed = start_worker(settings, log, AUTOGRADER_DEBUG_GRADE_DELAY_SECONDS="120")
    second = None
    try:
        sid = api.post("/api/v1/submissions", headers=alice.headers, json=EXAMPLE).json()["id"]
        wait_until(lambda: status(sid) == "running", 60, f"the first worker to claim it; log: {log}")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        # Submitted while no worker is alive: it waits in Redis.
        later = api.post("/api/v1/submissions", headers=alice.headers, json=EXAMPLE).json()["id"]
        assert status(sid) == "running" and status(later) == "queued"

        second = start_worker(settings, log)
        results = {}
        for submission_id in (sid, later):
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                r = api.get(f"/api/v1/submissions/{submission_id}", params={"wait": 10}, headers=alice.headers)
                if r.json()["status"] not in ("queued", "running"):
                    break
            results[submission_id] = r.json()
        assert all(r["status"] == "graded" for r in results.values()), (results, log.read_text()[-3000:])

        time.sleep(2 * settings.lease_seconds)  # any duplicate delivery would have landed by now
        n_items = len(graders.rubric("ex2").items)
        with sessions() as db:
            assert db.scalar(select(func.count()).select_from(Submission)) == 2
            killed = db.get(Submission, sid)
            # The killed attempt, then at least one more (a lease lost on a starved machine
            # may add an attempt, never a second result).
            assert killed.status == "graded" and killed.attempts >= 2
            assert db.get(Submission, later).attempts >= 1
            for submission_id in (sid, later):
                items = db.scalar(select(func.count()).select_from(SubmissionItem)
                                  .where(SubmissionItem.submission_id == submission_id))
                assert items == n_items
        assert results[sid]["score"] == results[later]["score"]
        # Redis kept nothing unacked: the dead worker's in-flight message went back to the
        # queue (broker maintenance after the heartbeat timeout) and was consumed.
        broker_keys = redis.Redis.from_url(REDIS_URL)
        ns = settings.redis_namespace
        assert list(broker_keys.scan_iter(f"{ns}:__acks__.*")) == []
        assert broker_keys.llen(f"{ns}:grading") == 0

        second.send_signal(signal.SIGTERM)  # a graceful stop
        assert second.wait(30) == 0
    finally:
        for process in (doomed, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
