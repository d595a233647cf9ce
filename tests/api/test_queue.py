"""The queue: the database decides who grades. A crash is a `failed` grade, a job run twice
writes one result, and nothing left `queued` or `running` is lost across restarts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app import grading
from app.models import Submission, SubmissionItem
from app.models.base import utcnow

from .conftest import wait_for


def submit(api, account, answers, exercise="ex2"):
    r = api.post("/api/v1/submissions", headers=account.headers, json={"exercise": exercise, "answers": answers})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_grader_crash_fails_that_submission_only(api, add_user):
    alice = add_user()
    crashed = wait_for(api, submit(api, alice, {"alpha": "crash"}), alice.headers)
    assert crashed["status"] == "failed" and crashed["score"] is None and crashed["items"] == []
    assert "grader failed" in crashed["error"] and "a bug in the grader" not in crashed["error"]
    fine = wait_for(api, submit(api, alice, {"alpha": "right"}), alice.headers)
    assert fine["status"] == "graded" and fine["score"] == 4


def test_a_job_delivered_twice_is_graded_once(api, add_user, scripted, sessions):
    alice = add_user()
    sid = submit(api, alice, {"alpha": "right"})
    wait_for(api, sid, alice.headers)
    queue = api.app.state.services.queue
    queue._run(sid)  # a duplicate delivery, e.g. after a redelivery by the broker
    assert scripted.calls.count(sid) == 1
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(SubmissionItem).where(SubmissionItem.submission_id == sid)) == 3


def test_only_the_claiming_attempt_writes(api, add_user, sessions):
    alice = add_user()
    api.app.state.services.queue.stop()  # nobody else grades in this test
    sid = submit(api, alice, {"alpha": "right"})
    lease = timedelta(seconds=30)
    first = grading.claim(sessions, sid, lease)
    assert first is not None and grading.claim(sessions, sid, lease) is None  # a live lease is respected
    with sessions.begin() as db:  # the first worker stalls past its lease...
        db.execute(update(Submission).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    second = grading.claim(sessions, sid, lease)  # ...and another takes over
    assert second is not None
    result = api.app.state.services.grader_for("ex2").grade({"alpha": "right"}, {}, sid)
    assert grading.write_result(sessions, sid, first, result) is False  # the stale attempt is ignored
    assert grading.write_result(sessions, sid, second, result) is True
    with sessions() as db:
        row = db.get(Submission, sid)
        assert (row.status, row.score, row.attempts) == ("graded", 4, 2)


def test_unfinished_submissions_are_graded_after_a_restart(make_client, settings, scripted, add_user, sessions):
    alice = add_user()
    no_worker = settings.model_copy(update={"in_process_worker": False})
    down = make_client(no_worker, grader_for=scripted)
    queued = submit(down, alice, {"alpha": "right"})
    crashed_mid_grade = submit(down, alice, {"objective": "right"})
    with sessions.begin() as db:  # its worker died: running, lease run out
        db.execute(update(Submission).where(Submission.id == crashed_mid_grade).values(
            status="running", attempt_token="dead", lease_expires_at=utcnow() - timedelta(seconds=5)))
    down.__exit__(None, None, None)

    up = make_client(grader_for=scripted)
    assert wait_for(up, queued, alice.headers)["score"] == 4
    assert wait_for(up, crashed_mid_grade, alice.headers)["score"] == 4
    with sessions() as db:
        assert db.get(Submission, crashed_mid_grade).attempts == 1


def test_a_lost_running_job_is_taken_over_when_its_lease_runs_out(make_client, settings, scripted, add_user, sessions):
    alice = add_user()
    api = make_client(settings.model_copy(update={"lease_seconds": 0.6}), grader_for=scripted)
    sid = submit(api, alice, {"alpha": "hold"})
    scripted.release()
    wait_for(api, sid, alice.headers)
    # Pretend a worker elsewhere claimed a regrade and died without a word.
    with sessions.begin() as db:
        db.execute(update(Submission).where(Submission.id == sid).values(
            status="running", attempt_token="dead", lease_expires_at=utcnow() + timedelta(seconds=0.5)))
    again = wait_for(api, sid, alice.headers, seconds=10)
    assert again["status"] == "graded"
    assert scripted.calls.count(sid) == 2


def test_a_submission_whose_message_was_lost_is_enqueued_again(make_client, settings, scripted, add_user, sessions):
    alice = add_user()
    api = make_client(settings.model_copy(update={"lease_seconds": 0.6, "requeue_queued_after_seconds": 0.5}),
                      grader_for=scripted)
    queue = api.app.state.services.queue
    working = queue.enqueue

    def broker_down(_submission_id: str) -> None:
        raise ConnectionError("broker down")

    queue.enqueue = broker_down
    r = api.post("/api/v1/submissions", headers=alice.headers, json={"exercise": "ex2", "answers": {"alpha": "right"}})
    assert r.status_code == 202  # committed: the broker being down costs the student nothing
    queue.enqueue = working  # the broker is back; nobody re-sends the lost message
    assert wait_for(api, r.json()["id"], alice.headers, seconds=15)["score"] == 4
    assert scripted.calls.count(r.json()["id"]) == 1
