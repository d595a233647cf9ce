"""Submitting, reading a grade (waiting for it), listing; who may see what."""
from __future__ import annotations

from sqlalchemy import func, select

import graders
from app.models import Submission, SubmissionItem

from .conftest import wait_for

RESULT_KEYS = {"id", "exercise", "status", "score", "max_score", "items", "grader_version"}
ITEM_KEYS = {"id", "score", "max_score", "feedback", "needs_review"}


def submit(api, account, exercise="ex2", answers=None, **kwargs):
    return api.post("/api/v1/submissions", headers={**account.headers, **kwargs.pop("headers", {})},
                    json={"exercise": exercise, "answers": answers or {}}, **kwargs)


def test_submit_then_wait_for_the_grade(api, add_user, sessions):
    alice = add_user("student", "alice")
    r = submit(api, alice, answers={"alpha": "right", "objective": "unsure"})
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "queued" and accepted["score"] is None
    assert r.headers["location"].endswith(f"/api/v1/submissions/{accepted['id']}")

    result = wait_for(api, accepted["id"], alice.headers)
    assert RESULT_KEYS <= set(result)
    assert result["status"] == "graded" and result["exercise"] == "ex2"
    assert result["max_score"] == 20 and result["student"]["name"] == "alice"
    items = {i["id"]: i for i in result["items"]}
    assert [i["id"] for i in result["items"]] == [i.id for i in graders.rubric("ex2").items]
    assert all(set(i) == ITEM_KEYS for i in result["items"])
    assert items["ex2a.alpha"]["score"] == 4 and not items["ex2a.alpha"]["needs_review"]
    assert items["ex2a.objective"] == {**items["ex2a.objective"], "score": 2, "needs_review": True}
    assert items["ex2a.derivation"]["feedback"] == "Not answered."
    assert result["score"] == 6
    assert result["grader_version"].startswith("ex2-")

    with sessions() as db:  # per-item rows for the review queue and histograms
        rows = db.scalars(select(SubmissionItem).where(SubmissionItem.submission_id == accepted["id"])).all()
        assert {(r.item_id, r.score, r.needs_review) for r in rows} == {
            ("ex2a.derivation", 0, False), ("ex2a.objective", 2, True), ("ex2a.alpha", 4, False)}


def test_wait_returns_when_the_grade_lands_and_not_before(api, add_user, scripted):
    bob = add_user()
    sid = submit(api, bob, answers={"alpha": "hold"}).json()["id"]
    pending = api.get(f"/api/v1/submissions/{sid}", params={"wait": 0.3}, headers=bob.headers).json()
    assert pending["status"] in ("queued", "running") and pending["items"] == []
    scripted.release()
    assert wait_for(api, sid, bob.headers)["status"] == "graded"


def test_wait_must_be_a_non_negative_number(api, add_user):
    bob = add_user()
    sid = submit(api, bob).json()["id"]
    r = api.get(f"/api/v1/submissions/{sid}", params={"wait": "-1"}, headers=bob.headers)
    assert r.status_code == 422 and "wait" in r.json()["detail"]


def test_a_student_cannot_see_another_students_submission(api, add_user):
    alice, mallory, ta = add_user(), add_user(), add_user("ta")
    sid = submit(api, alice, answers={"alpha": "right"}).json()["id"]
    wait_for(api, sid, alice.headers)
    r = api.get(f"/api/v1/submissions/{sid}", headers=mallory.headers)
    missing = api.get("/api/v1/submissions/00000000-0000-0000-0000-000000000000", headers=mallory.headers)
    assert r.status_code == missing.status_code == 404  # indistinguishable from a missing one
    assert r.json()["detail"] == f"no submission {sid}"
    assert api.get(f"/api/v1/submissions/{sid}", headers=ta.headers).json()["status"] == "graded"
    listed = api.get("/api/v1/submissions", headers=mallory.headers).json()
    assert listed["submissions"] == [] and listed["total"] == 0


def test_listing_own_and_filtered_for_tas(api, add_user):
    alice, bob, ta = add_user(), add_user(), add_user("ta")
    a1 = submit(api, alice, "ex2").json()["id"]
    a2 = submit(api, alice, "ex3").json()["id"]
    b1 = submit(api, bob, "ex2").json()["id"]
    for sid, who in ((a1, alice), (a2, alice), (b1, bob)):
        wait_for(api, sid, who.headers)
    own = api.get("/api/v1/submissions", headers=alice.headers).json()
    assert {s["id"] for s in own["submissions"]} == {a1, a2}
    everyone = api.get("/api/v1/submissions", headers=ta.headers).json()
    assert everyone["total"] == 3
    ex2 = api.get("/api/v1/submissions", params={"exercise": "ex2"}, headers=ta.headers).json()
    assert {s["id"] for s in ex2["submissions"]} == {a1, b1}
    bobs = api.get("/api/v1/submissions", params={"student": bob.id, "status": "graded"}, headers=ta.headers).json()
    assert [s["id"] for s in bobs["submissions"]] == [b1]
    # A student's `student` filter cannot widen the view.
    assert api.get("/api/v1/submissions", params={"student": bob.id}, headers=alice.headers).json()["total"] == 2


def test_idempotency_key_returns_the_same_submission(api, add_user, sessions, scripted):
    alice, bob = add_user(), add_user()
    body = {"alpha": "right"}
    first = submit(api, alice, answers=body, headers={"Idempotency-Key": "k-1"})
    again = submit(api, alice, answers=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other_user = submit(api, bob, answers=body, headers={"Idempotency-Key": "k-1"})
    assert other_user.status_code == 202 and other_user.json()["id"] != first.json()["id"]
    changed = submit(api, alice, answers={"alpha": "wrong"}, headers={"Idempotency-Key": "k-1"})
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()["detail"]
    wait_for(api, first.json()["id"], alice.headers)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Submission).where(Submission.user_id == alice.id)) == 1
    assert scripted.calls.count(first.json()["id"]) == 1


def test_tokens_are_stored_hashed(add_user, sessions):
    from app.models import User

    alice = add_user()
    with sessions() as db:
        stored = db.get(User, alice.id).token_hash
    assert alice.token not in stored and len(stored) == 64


def test_lms_tokens_cannot_submit(api, add_user):
    lms = add_user("lms")
    r = submit(api, lms)
    assert r.status_code == 403 and "student" in r.json()["detail"]


def test_waiting_requests_hold_no_database_connection(api, add_user, scripted):
    import threading
    import time

    students = [add_user() for _ in range(4)]
    ids = [submit(api, s, answers={"alpha": "hold"}).json()["id"] for s in students]
    results: list[dict] = []

    def wait(sid, account):
        results.append(api.get(f"/api/v1/submissions/{sid}", params={"wait": 20}, headers=account.headers).json())

    threads = [threading.Thread(target=wait, args=(sid, s)) for sid, s in zip(ids, students)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # every waiter is past its first polls and waiting
    pool = api.app.state.services.engine.pool
    samples = []
    for _ in range(5):
        samples.append(pool.checkedout())
        time.sleep(0.1)
    scripted.release()
    for t in threads:
        t.join(30)
    # A poll and a worker's lease renewal may be in flight at once; four waiters holding a
    # connection each would show 4 or more.
    assert max(samples) <= 2, samples
    assert sorted(r["status"] for r in results) == ["graded"] * 4
