"""Course policies at the HTTP door and in the counted grade."""
from datetime import datetime, timedelta, timezone

import pytest

from app.models import Submission

EX2 = {"exercise": "ex2", "answers": {"alpha": "right"}}


def iso(dt: datetime) -> str:
    return dt.isoformat()


def test_rate_limit_answers_429_with_retry_after_and_replays_are_free(ta_api, add_user, policies):
    policies("defaults: {rate_limit: {count: 2, per_seconds: 600}}\n")
    alice, ta = add_user("student"), add_user("ta")
    h = alice.headers
    first = ta_api.post("/api/v1/submissions", headers={**h, "Idempotency-Key": "k1"}, json=EX2)
    assert first.status_code == 202
    assert ta_api.post("/api/v1/submissions", headers=h, json=EX2).status_code == 202
    refused = ta_api.post("/api/v1/submissions", headers=h, json=EX2)
    assert refused.status_code == 429
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert "2 submissions per 600 s" in refused.json()["detail"]
    # a retry of a stored request is that request, not a new attempt
    replay = ta_api.post("/api/v1/submissions", headers={**h, "Idempotency-Key": "k1"}, json=EX2)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    # the limit is per exercise, and TAs are not limited
    assert ta_api.post("/api/v1/submissions", headers=h, json={"exercise": "ex3", "answers": {}}).status_code == 202
    for _ in range(3):
        assert ta_api.post("/api/v1/submissions", headers=ta.headers, json=EX2).status_code == 202
    listed = ta_api.get("/api/v1/submissions", headers=h, params={"exercise": "ex2"}).json()
    assert listed["total"] == 2  # the refusal stored nothing


def test_attempt_limit_and_failed_gradings_do_not_count(ta_api, add_user, policies, scripted, sessions):
    policies("defaults: {max_attempts: 2, rate_limit: null}\n")
    alice = add_user("student")
    r1 = ta_api.post("/api/v1/submissions", headers=alice.headers, json=EX2)
    ta_api.get(f"/api/v1/submissions/{r1.json()['id']}?wait=20", headers=alice.headers)
    with sessions() as db:  # our grader failed on it: it costs the student nothing
        db.get(Submission, r1.json()["id"]).status = "failed"
        db.commit()
    assert ta_api.post("/api/v1/submissions", headers=alice.headers, json=EX2).status_code == 202
    assert ta_api.post("/api/v1/submissions", headers=alice.headers, json=EX2).status_code == 202
    refused = ta_api.post("/api/v1/submissions", headers=alice.headers, json=EX2)
    assert refused.status_code == 403 and "2 attempts" in refused.json()["detail"]


def test_hard_cutoff_refuses(ta_api, add_user, policies):
    now = datetime.now(timezone.utc)
    policies(f"exercises: {{ex2: {{deadline: '{iso(now - timedelta(days=8))}', cutoff: '{iso(now - timedelta(days=1))}'}}}}\n")
    alice = add_user("student")
    refused = ta_api.post("/api/v1/submissions", headers=alice.headers, json=EX2)
    assert refused.status_code == 403 and "cut-off" in refused.json()["detail"]
    assert ta_api.post("/api/v1/submissions", headers=alice.headers, json={"exercise": "ex3", "answers": {}}).status_code == 202


@pytest.mark.parametrize("counts, expected", [("best", 8.0), ("last", 4.0)])
def test_counted_grade_best_or_last_with_late_penalty(ta_api, add_user, policies, submit, counts, expected):
    alice = add_user("student")
    policies(f"defaults: {{counts: {counts}, rate_limit: null}}\n")
    submit(ta_api, alice, {"alpha": "right", "objective": "right"})  # 8
    submit(ta_api, alice, {"alpha": "right"})  # 4, later
    grades = ta_api.get("/api/v1/grades/me", headers=alice.headers).json()
    ex2 = next(g for g in grades["exercises"] if g["exercise"] == "ex2")
    assert ex2["score"] == expected and grades["counting"] == counts and ex2["submissions"] == 2

    # the deadline was a day and a bit ago: two started days at 10 % of 20 points each
    deadline = datetime.now(timezone.utc) - timedelta(days=1, hours=1)
    policies(f"defaults: {{counts: {counts}, late_penalty_per_day: 0.1, deadline: '{iso(deadline)}'}}\n")
    ex2 = next(g for g in ta_api.get("/api/v1/grades/me", headers=alice.headers).json()["exercises"]
               if g["exercise"] == "ex2")
    assert ex2["score"] == pytest.approx(max(0, expected - 4)) and ex2["late_penalty"] == pytest.approx(4)
