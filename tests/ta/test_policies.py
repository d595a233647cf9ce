"""Course policies as pure functions: late penalty, cut-off, best/last, attempts, rate limit."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.policies import (
    DEFAULT_POLICIES_FILE,
    Attempt,
    Policy,
    RateLimit,
    Refusal,
    check_submission,
    counted_grade,
    days_late,
    late_penalty,
    policy_for,
)

DEADLINE = datetime(2026, 12, 15, 23, 59, tzinfo=timezone(timedelta(hours=1)))
CUTOFF = DEADLINE + timedelta(days=7)


def policy(**kw) -> Policy:
    base = dict(deadline=DEADLINE, cutoff=CUTOFF, late_penalty_per_day=0.1)
    return Policy(**{**base, **kw})


def test_on_time_costs_nothing_and_each_started_day_costs_the_fraction():
    p = policy()
    assert days_late(p, DEADLINE) == 0
    assert late_penalty(p, DEADLINE - timedelta(hours=3), 30) == 0
    assert days_late(p, DEADLINE + timedelta(seconds=1)) == 1
    assert late_penalty(p, DEADLINE + timedelta(seconds=1), 30) == pytest.approx(3.0)
    assert days_late(p, DEADLINE + timedelta(days=1)) == 1
    assert days_late(p, DEADLINE + timedelta(days=1, seconds=1)) == 2
    assert late_penalty(p, DEADLINE + timedelta(days=2, hours=1), 20) == pytest.approx(6.0)


def test_penalty_never_exceeds_the_exercise():
    p = policy(late_penalty_per_day=0.5, cutoff=None)
    assert late_penalty(p, DEADLINE + timedelta(days=5), 30) == pytest.approx(30)


def test_no_deadline_means_no_penalty():
    assert late_penalty(Policy(late_penalty_per_day=0.5), DEADLINE + timedelta(days=40), 30) == 0


def test_after_the_cutoff_is_refused_with_403():
    with pytest.raises(Refusal) as err:
        check_submission(policy(), CUTOFF + timedelta(seconds=1), [], 0)
    assert err.value.status == 403 and "cut-off" in err.value.detail
    check_submission(policy(), CUTOFF, [], 0)  # at the cut-off itself is still fine


def test_attempt_limit():
    p = policy(max_attempts=3)
    check_submission(p, DEADLINE, [], 2)
    with pytest.raises(Refusal) as err:
        check_submission(p, DEADLINE, [], 3)
    assert err.value.status == 403 and "3 attempts" in err.value.detail


def test_rate_limit_answers_429_with_the_seconds_until_a_slot_frees():
    p = policy(rate_limit=RateLimit(count=2, per_seconds=600))
    now = DEADLINE - timedelta(days=1)
    earlier = [now - timedelta(seconds=500), now - timedelta(seconds=100)]
    with pytest.raises(Refusal) as err:
        check_submission(p, now, earlier, 2)
    assert err.value.status == 429
    assert err.value.retry_after == 100  # the older one leaves the window in 100 s
    # once it has left, a submission is allowed again
    check_submission(p, now + timedelta(seconds=101), earlier, 2)
    # submissions outside the window do not count
    check_submission(p, now, [now - timedelta(seconds=700), now - timedelta(seconds=601)], 2)


def attempt(sid: str, at: datetime, score: float, max_score: float = 30) -> Attempt:
    return Attempt(sid, at, score, max_score)


def test_best_counts_the_best_penalised_score():
    early, late = DEADLINE - timedelta(days=1), DEADLINE + timedelta(hours=2)
    grade = counted_grade(policy(), [attempt("a", early, 20), attempt("b", late, 25)])
    # b: 25 - 3 = 22 beats a: 20
    assert grade.submission_id == "b" and grade.score == pytest.approx(22) and grade.days_late == 1
    grade = counted_grade(policy(), [attempt("a", early, 23), attempt("b", late, 25)])
    assert grade.submission_id == "a" and grade.score == pytest.approx(23) and grade.penalty == 0


def test_last_counts_the_latest_even_when_worse():
    p = policy(counts="last")
    t0 = DEADLINE - timedelta(days=2)
    grade = counted_grade(p, [attempt("b", t0 + timedelta(hours=1), 10), attempt("a", t0, 30)])
    assert grade.submission_id == "b" and grade.score == 10


def test_submissions_after_a_moved_cutoff_do_not_count():
    grade = counted_grade(policy(), [attempt("x", CUTOFF + timedelta(hours=1), 30)])
    assert grade is None
    assert counted_grade(policy(), []) is None


def test_shipped_policy_file_is_valid_and_exercises_override_defaults():
    p1, p4 = policy_for("ex1", DEFAULT_POLICIES_FILE), policy_for("ex4", DEFAULT_POLICIES_FILE)
    assert p1.counts == "best" and p1.deadline is not None and p1.rate_limit is not None
    assert p4.rate_limit.count < p1.rate_limit.count  # ex4 grading is expensive
    assert policy_for("ex_unknown", DEFAULT_POLICIES_FILE).deadline is None  # defaults alone


def test_policy_file_from_path_and_missing_file_gives_defaults(tmp_path: Path):
    f = tmp_path / "p.yaml"
    f.write_text("defaults: {counts: last}\nexercises: {ex2: {max_attempts: 2}}\n")
    assert policy_for("ex2", f).counts == "last" and policy_for("ex2", f).max_attempts == 2
    assert policy_for("ex2", tmp_path / "absent.yaml") == Policy()


def test_bad_policy_file_is_refused_on_load(tmp_path: Path):
    f = tmp_path / "p.yaml"
    f.write_text("exercises: {ex2: {deadline: '2026-12-01T10:00:00'}}\n")  # no UTC offset
    with pytest.raises(ValidationError, match="UTC offset"):
        policy_for("ex1", f)
    f.write_text("exercises: {ex2: {counts: median}}\n")
    with pytest.raises(ValidationError):
        policy_for("ex1", f)
